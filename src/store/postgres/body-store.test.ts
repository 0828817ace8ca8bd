import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { newQueueId } from '../../queue/queue-id.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { bodyStoreContract, type OpenedBodyStore } from '../bodies-contract.js';
import { PgBodyStore } from './body-store.js';
import { openPostgres } from './database.js';

const database = testDatabase('bodies');

async function openAt(url: string): Promise<OpenedBodyStore> {
  const db = await openPostgres(url, { poolSize: 4 });
  let closed: Promise<void> | undefined;
  return { store: new PgBodyStore(db), close: () => (closed ??= db.close()), reopen: () => openAt(url) };
}

bodyStoreContract('postgres', async () => openAt(await freshSchema(await database)));

test('postgres body store: a body written on one node reads back byte for byte on another, in 256 KiB chunks', async () => {
  const url = await freshSchema(await database);
  const [a, b] = await Promise.all([openAt(url), openAt(url)]);
  try {
    const id = newQueueId(new Date());
    const body = randomBytes(3 * 256 * 1024 + 17);
    const writer = await a.store.create(id);
    // Written in odd pieces, as a socket delivers them.
    const pieces = [];
    for (let at = 0; at < body.length; at += 40_000) pieces.push(body.subarray(at, at + 40_000));
    await pipeline(Readable.from(pieces), writer.writable());
    assert.equal(await b.store.open(id), null, 'not findable before commit');
    await writer.sync();
    await writer.commit();
    const read = await b.store.open(id);
    assert.ok(read);
    assert.deepEqual(await buffer(read), body);
  } finally {
    await a.close();
    await b.close();
  }
});

test('postgres body store: an empty body reads back empty', async () => {
  const o = await openAt(await freshSchema(await database));
  try {
    const id = newQueueId(new Date());
    const writer = await o.store.create(id);
    await pipeline(Readable.from([]), writer.writable());
    await writer.sync();
    await writer.commit();
    assert.deepEqual(await buffer((await o.store.open(id))!), Buffer.alloc(0));
  } finally {
    await o.close();
  }
});
