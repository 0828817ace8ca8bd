/**
 * The BodyStore contract: every adapter runs these tests against real storage
 * (filesystem/body-store.test.ts; an object-store or PostgreSQL adapter adds its own caller).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { newQueueId } from '../queue/queue-id.js';
import type { BodyStore, BodyWriter } from './ports.js';

export interface OpenedBodyStore {
  store: BodyStore;
  /** Closes the store; `reopen` opens the same storage again (durability). */
  close(): Promise<void>;
  reopen(): Promise<OpenedBodyStore>;
}

async function write(writer: BodyWriter, ...chunks: Buffer[]): Promise<void> {
  await pipeline(Readable.from(chunks), writer.writable());
}

async function stored(store: BodyStore, id: string, ...chunks: Buffer[]): Promise<void> {
  const writer = await store.create(id);
  await write(writer, ...chunks);
  await writer.sync();
  await writer.commit();
}

async function read(store: BodyStore, id: string): Promise<Buffer | null> {
  const stream = await store.open(id);
  return stream ? buffer(stream) : null;
}

async function ids(store: BodyStore): Promise<string[]> {
  const out: string[] = [];
  for await (const id of store.list()) out.push(id);
  return out.sort();
}

export function bodyStoreContract(adapter: string, open: () => Promise<OpenedBodyStore>): void {
  const withStore = (name: string, fn: (o: OpenedBodyStore) => Promise<void>): void => {
    test(`${adapter} body store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('a committed body reads back byte for byte, however it was chunked', async ({ store }) => {
    const id = newQueueId(new Date());
    const big = randomBytes(300 * 1024);
    const writer = await store.create(id);
    await write(writer, Buffer.from('Subject: x\r\n\r\n'), big, Buffer.from([0, 0xff, 0x0d]));
    assert.equal(writer.bytes, 14 + big.length + 3);
    await writer.sync();
    await writer.commit();
    assert.deepEqual(await read(store, id), Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), big, Buffer.from([0, 0xff, 0x0d])]));
    assert.deepEqual(await read(store, id), await read(store, id), 'a body can be read many times');
  });

  withStore('an id without a body opens as null, and so does a malformed one', async ({ store }) => {
    assert.equal(await store.open(newQueueId(new Date())), null);
    assert.equal(await store.open('../../etc/passwd'), null);
    assert.equal(await store.open(''), null);
  });

  withStore('create refuses an id that has a body and leaves the first one as it was', async ({ store }) => {
    const id = newQueueId(new Date());
    await stored(store, id, Buffer.from('first'));
    await assert.rejects(store.create(id));
    assert.equal((await read(store, id))?.toString(), 'first');
  });

  withStore('create refuses a malformed id and writes nothing', async ({ store }) => {
    for (const bad of ['../escape0000', 'a/b/c/d/e/f', '', 'UPPER00000']) await assert.rejects(store.create(bad));
    assert.deepEqual(await ids(store), []);
  });

  withStore('discard leaves nothing of a body, written in part or in full', async ({ store }) => {
    const partial = newQueueId(new Date());
    const p = await store.create(partial);
    await write(p, Buffer.from('half a mess'));
    await p.discard();
    const full = newQueueId(new Date());
    const f = await store.create(full);
    await write(f, Buffer.from('all of it'));
    await f.sync();
    await f.discard();
    assert.equal(await store.open(partial), null);
    assert.equal(await store.open(full), null);
    assert.deepEqual(await ids(store), []);
    await p.discard();
  });

  withStore('list names every body, committed or still being written', async ({ store }) => {
    const done = newQueueId(new Date());
    await stored(store, done, Buffer.from('done'));
    const writing = newQueueId(new Date());
    const w = await store.create(writing);
    await write(w, Buffer.from('in progress'));
    assert.deepEqual(await ids(store), [done, writing].sort());
    await w.discard();
  });

  withStore('delete removes the named bodies, keeps the others and ignores ids without one', async ({ store }) => {
    const [a, b, c] = [0, 1, 2].map(() => newQueueId(new Date()));
    for (const id of [a!, b!, c!]) await stored(store, id, Buffer.from(id));
    await store.delete([a!, c!, newQueueId(new Date()), 'not/an/id']);
    assert.deepEqual(await ids(store), [b!]);
    assert.equal(await store.open(a!), null);
    assert.equal((await read(store, b!))?.toString(), b);
    await store.delete([a!, c!]);
    assert.deepEqual(await ids(store), [b!]);
  });

  withStore('bodies of different days live side by side', async ({ store }) => {
    const old = newQueueId(new Date(Date.now() - 30 * 86_400_000));
    const now = newQueueId(new Date());
    await stored(store, old, Buffer.from('old'));
    await stored(store, now, Buffer.from('now'));
    await store.delete([old]);
    assert.deepEqual(await ids(store), [now]);
    const again = newQueueId(new Date(Date.now() - 30 * 86_400_000));
    await stored(store, again, Buffer.from('old again'));
    assert.equal((await read(store, again))?.toString(), 'old again');
  });

  withStore('concurrent commits all complete, and every body is there afterwards', async ({ store }) => {
    const all = Array.from({ length: 40 }, () => newQueueId(new Date()));
    const writers = await Promise.all(all.map((id) => store.create(id)));
    await Promise.all(writers.map((w, i) => write(w, Buffer.from(`m${i}`))));
    await Promise.all(writers.map((w) => w.sync()));
    await Promise.all(writers.map((w) => w.commit()));
    assert.deepEqual(await ids(store), [...all].sort());
    for (const [i, id] of all.entries()) assert.equal((await read(store, id))?.toString(), `m${i}`);
  });

  withStore('a committed body is there after the store is opened again', async (o) => {
    const id = newQueueId(new Date());
    await stored(o.store, id, Buffer.from('durable'));
    await o.close();
    const again = await o.reopen();
    try {
      assert.equal((await read(again.store, id))?.toString(), 'durable');
      assert.deepEqual(await ids(again.store), [id]);
    } finally {
      await again.close();
    }
  });
}
