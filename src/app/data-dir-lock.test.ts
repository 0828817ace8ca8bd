import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

test('a second serve with the same node id on the same data directory is refused while the first lives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-lock-'));
  // A live process other than this one holds the lock of node-a.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, 'serve-node-a.lock'), `${other.pid}\n`);
    assert.throws(
      () => lockDataDir(dir, 'node-a'),
      (e: unknown) =>
        e instanceof DataDirLockedError &&
        e.code === 'conflict' &&
        e.message === `another relaygate serve (pid ${other.pid}) runs as node node-a on ${dir}; give each serve on a data directory its own nodeId`,
    );
    // Another node id may share the data directory.
    const b = lockDataDir(dir, 'node-b');
    assert.equal(readFileSync(join(dir, 'serve-node-b.lock'), 'utf8'), `${process.pid}\n`);
    b.release();
    assert.equal(existsSync(join(dir, 'serve-node-b.lock')), false);
    assert.equal(readFileSync(join(dir, 'serve-node-a.lock'), 'utf8'), `${other.pid}\n`, "node-a's lock is untouched");
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // Its process is gone now: the stale lock is taken over, and released on stop.
  const lock = lockDataDir(dir, 'node-a');
  assert.equal(readFileSync(join(dir, 'serve-node-a.lock'), 'utf8'), `${process.pid}\n`);
  lock.release();
  assert.equal(existsSync(join(dir, 'serve-node-a.lock')), false);
  rmSync(dir, { recursive: true, force: true });
});

test('a node id that is not safe in a file name is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-lock-'));
  try {
    assert.throws(() => lockDataDir(dir, '../x'), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'invalid');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
