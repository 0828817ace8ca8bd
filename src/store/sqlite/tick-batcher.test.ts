import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { accepted } from '../queue-contract.js';
import { openSqlite } from './database.js';
import { SqliteQueueStore } from './queue-store.js';
import { tickBatcher } from './tick-batcher.js';

function opened(syncWal: (path: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-tick-batcher-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  const batcher = tickBatcher(db, { syncWal });
  return { db, batcher, queue: new SqliteQueueStore(db), close: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('a commit is answered only once the WAL holding it is synced, and the transaction itself stays FULL outside the batch', async () => {
  const synced: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const o = opened(async (path) => {
    synced.push(path);
    await gate;
  });
  try {
    const m = accepted();
    let answered = false;
    const commit = o.queue.commit({ messages: [m], decisions: [] }).then(() => (answered = true));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(synced.length, 1, 'the WAL is synced once for the commit');
    assert.ok(synced[0]!.endsWith('relaygate.db-wal'), synced[0]);
    assert.equal(answered, false, 'no answer before the WAL is on disk');
    assert.equal(o.db.pragma('synchronous', { simple: true }), 2, 'the connection is back to FULL for every other transaction');
    release();
    await commit;
    assert.equal(answered, true);
    assert.deepEqual(await o.queue.existingMessages([m.id]), new Set([m.id]));
  } finally {
    o.close();
  }
});

test('a WAL sync that fails fails the commit and takes its messages back', async () => {
  const o = opened(async () => {
    throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
  });
  try {
    const m = accepted();
    await assert.rejects(o.queue.commit({ messages: [m], decisions: [] }), /EIO/);
    assert.deepEqual(await o.queue.existingMessages([m.id]), new Set());
  } finally {
    o.close();
  }
});

test('commits made in the same turn share one transaction and one WAL sync', async () => {
  let syncs = 0;
  const o = opened(async () => {
    syncs++;
  });
  try {
    const a = accepted();
    const b = accepted();
    await Promise.all([o.queue.commit({ messages: [a], decisions: [] }), o.queue.commit({ messages: [b], decisions: [] })]);
    assert.equal(o.batcher.commits, 1);
    assert.equal(syncs, 1);
    assert.deepEqual(await o.queue.existingMessages([a.id, b.id]), new Set([a.id, b.id]));
  } finally {
    o.close();
  }
});
