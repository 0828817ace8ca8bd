import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

test('a second serve on the same data directory is refused while the first lives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-lock-'));
  // A live process other than this one holds the lock.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, 'serve.lock'), `${other.pid}\n`);
    assert.throws(
      () => lockDataDir(dir),
      (e: unknown) => e instanceof DataDirLockedError && e.message === `another relaygate serve (pid ${other.pid}) is using ${dir}; one serve per data directory`,
    );
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // Its process is gone now: the stale lock is taken over, and released on stop.
  const lock = lockDataDir(dir);
  assert.equal(readFileSync(join(dir, 'serve.lock'), 'utf8'), `${process.pid}\n`);
  lock.release();
  assert.equal(existsSync(join(dir, 'serve.lock')), false);
  rmSync(dir, { recursive: true, force: true });
});
