import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ManualClock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';
import { FileBodyStore } from '../store/filesystem/body-store.js';
import { accepted, T0 } from '../store/queue-contract.js';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { SqliteQueueAdminStore } from '../store/sqlite/queue-admin-store.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import type { AcceptedMessage } from '../store/ports.js';
import { EmptySelectionError, QueueAdmin } from './admin.js';

const HOUR = 3_600_000;

/** The messages are queued as acceptance does: under the id of the directory's tenant (contoso, fabrikam) of their name. */
async function setup(given: AcceptedMessage[]) {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-admin-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  const directory = new SqliteDirectoryStore(db);
  for (const name of ['contoso', 'fabrikam']) await directory.addTenant({ name });
  const ids = new Map((await directory.load()).tenants.map((t) => [t.name, t.id]));
  const messages = given.map((m) => ({ ...m, tenantId: m.tenant !== null ? (ids.get(m.tenant) ?? null) : null }));
  const queue = new SqliteQueueStore(db);
  const store = new SqliteQueueAdminStore(db);
  const bodies = new FileBodyStore(join(dir, 'spool'));
  for (const m of messages) {
    const body = await bodies.create(m.id);
    await pipeline(Readable.from([Buffer.from(`From: ${m.mailFrom}\r\nSubject: ${m.subject}\r\n\r\nbody\r\n`)]), body.writable());
    await body.commit();
  }
  await queue.commit({ messages, decisions: [] });
  const clock = new ManualClock(new Date(T0 + 6 * HOUR));
  const admin = new QueueAdmin({ store, directory, bodies, clock });
  const states = async () => (await store.select({}, { limit: 100 })).flatMap((e) => e.recipients.map((r) => `${r.address}:${r.state}`));
  return { queue, store, directory, bodies, admin, clock, states, cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

const rejected = (code: string, message: RegExp) => (err: unknown) => err instanceof RelaygateError && err.code === code && message.test(err.message);

test('an action or a deletion without ids, filter or `all` is refused and changes nothing', async () => {
  const s = await setup([accepted()]);
  try {
    await assert.rejects(s.admin.apply('bounce', {}), (err: unknown) => err instanceof EmptySelectionError && err.code === 'invalid');
    await assert.rejects(s.admin.delete({ ids: [] }), EmptySelectionError);
    assert.deepEqual(await s.states(), ['a@remote.test:queued']);
    assert.equal(await s.admin.apply('hold', { all: true }), 1);
  } finally {
    s.cleanup();
  }
});

test('a domain is matched in its canonical form; a bad domain, state or age is invalid', async () => {
  const s = await setup([accepted({}, ['ü@xn--bcher-kva.test', 'a@remote.test'])]);
  try {
    assert.equal(await s.admin.apply('hold', { domain: 'BÜCHER.test.' }), 1);
    assert.deepEqual(await s.states(), ['ü@xn--bcher-kva.test:held', 'a@remote.test:queued'], 'only the recipients in the domain');
    await assert.rejects(s.admin.apply('hold', { domain: 'not a domain' }), rejected('invalid', /^not a domain name: not a domain$/));
    await assert.rejects(s.admin.list({ state: 'lost' }), rejected('invalid', /^unknown recipient state lost: expected queued, inflight/));
    await assert.rejects(s.admin.apply('retry', { olderThanMs: -1 }), rejected('invalid', /duration/));
    await assert.rejects(s.admin.list({}, 0), rejected('invalid', /positive whole number/));
  } finally {
    s.cleanup();
  }
});

test('bounce: our own reply, a DSN owed unless the sender is null or NOTIFY excludes FAILURE; in-flight recipients are left to their delivery', async () => {
  const normal = accepted({}, ['a@remote.test', { address: 'n@remote.test', notify: 'NEVER' }]);
  const nullSender = accepted({ mailFrom: '' }, ['b@remote.test']);
  const leased = accepted({}, ['c@remote.test']);
  const s = await setup([normal, nullSender, leased]);
  try {
    const [work] = await s.queue.claimDue('node-a', T0, HOUR, 1);
    assert.equal(work?.recipients.length, 1, 'a delivery holds one recipient');
    assert.equal(await s.admin.apply('bounce', { all: true }), 4 - work!.recipients.length);
    const entries = await s.store.select({}, { limit: 10 });
    const byAddress = new Map(entries.flatMap((e) => e.recipients.map((r) => [r.address, r] as const)));
    for (const r of work!.recipients) assert.equal(byAddress.get(r.address)?.state, 'inflight');
    const bounced = [...byAddress.values()].filter((r) => r.state === 'failed').map((r) => [r.address, r.lastReply, r.dsnStatus]);
    const expected = [
      ['a@remote.test', '554 5.0.0 Message returned by the relay operator', 'owed'],
      ['n@remote.test', '554 5.0.0 Message returned by the relay operator', 'suppressed'],
      ['b@remote.test', '554 5.0.0 Message returned by the relay operator', 'suppressed'],
      ['c@remote.test', '554 5.0.0 Message returned by the relay operator', 'owed'],
    ].filter(([address]) => !work!.recipients.some((r) => r.address === address));
    assert.deepEqual(bounced.sort(), expected.sort());
  } finally {
    s.cleanup();
  }
});

test('retry and release make recipients due now; age counts from the clock', async () => {
  const old = accepted({ receivedAt: T0 - 5 * HOUR });
  const young = accepted({ receivedAt: T0 + 5 * HOUR });
  const s = await setup([old, young]);
  try {
    assert.equal(await s.admin.apply('hold', { all: true }), 2);
    assert.equal(await s.admin.apply('release', { olderThanMs: 4 * HOUR }), 1, 'received 11 hours before the clock');
    assert.equal(await s.admin.apply('release', { olderThanMs: 2 * HOUR }), 0, 'the other was received one hour before it');
    const [entry] = await s.admin.list({ ids: [old.id] });
    assert.deepEqual(entry?.recipients.map((r) => [r.state, r.nextAttemptAt]), [['queued', T0 + 6 * HOUR]]);
  } finally {
    s.cleanup();
  }
});

test('show and headers: the message, the header block of its body; a missing one is not-found', async () => {
  const m = accepted({ subject: 'report' });
  const s = await setup([m]);
  try {
    assert.equal((await s.admin.show(m.id)).message.subject, 'report');
    assert.equal(await s.admin.headers(m.id), 'From: alice@contoso.test\r\nSubject: report');
    await assert.rejects(s.admin.show('nosuchmessage000000'), rejected('not-found', /^message nosuchmessage000000 is not in the queue$/));
    await s.bodies.delete([m.id]);
    await assert.rejects(s.admin.headers(m.id), rejected('not-found', /no body is stored/));
  } finally {
    s.cleanup();
  }
});

test('delete removes the rows and then the bodies, in pages, and counts the messages', async () => {
  const messages = Array.from({ length: 1203 }, (_, i) => accepted({ tenant: i % 3 === 0 ? 'fabrikam' : 'contoso' }));
  const s = await setup(messages);
  try {
    assert.equal(await s.admin.delete({ tenant: 'fabrikam' }), 401);
    assert.equal((await s.admin.list({}, 5000)).length, 802);
    for (const m of messages.slice(0, 6)) {
      const body = await s.bodies.open(m.id);
      body?.destroy();
      assert.equal(body !== null, m.tenant === 'contoso', `${m.id} (${m.tenant})`);
    }
  } finally {
    s.cleanup();
  }
});
