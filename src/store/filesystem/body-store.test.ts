import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { newQueueId } from '../../queue/queue-id.js';
import { bodyStoreContract, type OpenedBodyStore } from '../bodies-contract.js';
import { FileBodyStore } from './body-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-bodies-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(dir: string): OpenedBodyStore {
  return { store: new FileBodyStore(dir), close: async () => undefined, reopen: async () => openAt(dir) };
}

bodyStoreContract('filesystem', async () => openAt(join(root, `case-${++n}`, 'spool')));

test('bodies are files <bucket>/<id>.eml, so a spool written before the body store opens as it is', async () => {
  const dir = join(root, 'layout');
  const id = newQueueId(new Date());
  mkdirSync(join(dir, id.slice(0, 5)), { recursive: true });
  writeFileSync(join(dir, id.slice(0, 5), `${id}.eml`), 'Subject: from before\r\n\r\nx\r\n');
  const store = new FileBodyStore(dir);
  assert.equal((await buffer((await store.open(id))!)).toString(), 'Subject: from before\r\n\r\nx\r\n');
  const fresh = newQueueId(new Date());
  const w = await store.create(fresh);
  await pipeline(Readable.from([Buffer.from('y')]), w.writable());
  await w.commit();
  assert.ok(existsSync(join(dir, fresh.slice(0, 5), `${fresh}.eml`)));
});

test('bodies committed together share the fsync of their directory', async () => {
  const store = new FileBodyStore(join(root, 'group'));
  const writers = await Promise.all(Array.from({ length: 20 }, () => store.create(newQueueId(new Date()))));
  await Promise.all(writers.map((w) => pipeline(Readable.from([Buffer.from('m')]), w.writable())));
  await Promise.all(writers.map((w) => w.sync()));
  const before = store.directoryFlushes;
  await Promise.all(writers.map((w) => w.commit()));
  assert.ok(store.directoryFlushes - before <= 2, `expected shared directory fsyncs, got ${store.directoryFlushes - before} for 20 bodies`);
});

test('an emptied bucket older than the newest is removed; the newest stays for the next body', async () => {
  const dir = join(root, 'buckets');
  const store = new FileBodyStore(dir);
  const old = newQueueId(new Date(Date.now() - 3 * 86_400_000));
  const now = newQueueId(new Date());
  for (const id of [old, now]) {
    const w = await store.create(id);
    await pipeline(Readable.from([Buffer.from(id)]), w.writable());
    await w.commit();
  }
  await store.delete([old, now]);
  assert.deepEqual(readdirSync(dir), [now.slice(0, 5)]);
});
