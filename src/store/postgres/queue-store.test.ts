import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { newQueueId } from '../../queue/queue-id.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { decisionStoreContract } from '../decisions-contract.js';
import { queueAdminStoreContract } from '../queue-admin-contract.js';
import { traceStoreContract } from '../trace-contract.js';
import { accepted, queueStoreContract, T0 } from '../queue-contract.js';
import { queueStatsStoreContract, type OpenedQueueWithStats } from '../queue-stats-contract.js';
import { openPostgres } from './database.js';
import { PgDecisionStore } from './decision-store.js';
import { PgDirectoryStore } from './directory-store.js';
import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../../core/ulid.js';
import { PgQueueAdminStore } from './queue-admin-store.js';
import { PgQueueStatsStore } from './queue-stats.js';
import { PgQueueStore } from './queue-store.js';
import { PgTraceStore } from './trace-store.js';

const database = testDatabase('queue');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function openAt(url: string): Promise<OpenedQueueWithStats> {
  const db = await openPostgres(url, { poolSize: 4 });
  let closed: Promise<void> | undefined;
  return {
    queue: new PgQueueStore(db),
    admin: new PgQueueAdminStore(db),
    stats: new PgQueueStatsStore(db),
    decisions: new PgDecisionStore(db),
    trace: new PgTraceStore(db),
    directory: new PgDirectoryStore(db, newId),
    close: () => (closed ??= db.close()),
    reopen: () => openAt(url),
    another: () => openAt(url),
  };
}

const fresh = async (): Promise<OpenedQueueWithStats> => openAt(await freshSchema(await database));
queueStoreContract('postgres', fresh);
queueAdminStoreContract('postgres', fresh);
decisionStoreContract('postgres', fresh);
traceStoreContract('postgres', fresh);
queueStatsStoreContract('postgres', fresh);

const MINUTE = 60_000;

test('postgres queue: a claim skips rows another session holds locked instead of waiting for it', async () => {
  const url = await freshSchema(await database);
  const a = await openAt(url);
  const db = await openPostgres(url, { poolSize: 2, statementTimeoutMs: 3_000 });
  const b = new PgQueueStore(db);
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    const messages = Array.from({ length: 4 }, (_, i) => accepted({ receivedAt: T0 + i }, [`u${i}@remote.test`]));
    await a.queue.commit({ messages, decisions: [] });
    // Another node's claim is in progress: it holds the two oldest rows and has not committed.
    await holder.query('BEGIN');
    await holder.query("SELECT id FROM recipients WHERE state = 'queued' ORDER BY next_attempt_at, id LIMIT 2 FOR UPDATE");
    const claimed = await b.claimDue('node-b', T0 + MINUTE, MINUTE, 10);
    assert.deepEqual(claimed.map((w) => w.message.id), [messages[2]!.id, messages[3]!.id]);
    await holder.query('ROLLBACK');
    assert.deepEqual((await b.claimDue('node-b', T0 + MINUTE, MINUTE, 10)).map((w) => w.message.id), [messages[0]!.id, messages[1]!.id]);
  } finally {
    await holder.end();
    await db.close();
    await a.close();
  }
});

test('postgres queue: a run paused past its lease cannot record over the claim that followed, even under the same node id', async () => {
  const url = await freshSchema(await database);
  const [paused, restarted, other] = await Promise.all([openAt(url), openAt(url), openAt(url)]);
  try {
    const m = accepted({}, ['a@remote.test', 'b@remote.test']);
    await paused.queue.commit({ messages: [m], decisions: [] });
    const [before] = await paused.queue.claimDue('node-a', T0, MINUTE, 10);
    const [a, b] = before!.recipients.map((r) => r.id);
    const token = new Map(before!.recipients.map((r) => [r.id, r.generation]));
    // The lease runs out. node-a comes back as a new process (same node id) and claims a again;
    // another node claims b.
    const [again] = await restarted.queue.claimDue('node-a', T0 + MINUTE, MINUTE, 1);
    assert.deepEqual(again!.recipients.map((r) => r.id), [a]);
    const [taken] = await other.queue.claimDue('node-b', T0 + MINUTE, MINUTE, 1);
    assert.deepEqual(taken!.recipients.map((r) => r.id), [b]);
    // The paused run wakes up and reports what it did with the lease it no longer holds.
    const late = [a!, b!].map((id) => ({ id, generation: token.get(id)!, state: 'failed' as const, reply: '550 5.1.1 late', remoteMta: 'mx.remote.test', attempted: true, dsnStatus: 'owed' as const }));
    assert.equal(await paused.queue.record('node-a', late, T0 + MINUTE + 1), 0);
    assert.equal(await restarted.queue.record('node-a', [{ id: a!, generation: again!.recipients[0]!.generation, state: 'delivered', reply: '250 ok', attempted: true }], T0 + MINUTE + 2), 1);
    assert.equal(await other.queue.record('node-b', [{ id: b!, generation: taken!.recipients[0]!.generation, state: 'delivered', reply: '250 ok', attempted: true }], T0 + MINUTE + 3), 1);
    const [entry] = await other.admin.select({ ids: [m.id] }, { limit: 1 });
    assert.deepEqual(entry!.recipients.map((r) => [r.state, r.lastReply, r.dsnStatus, r.attempts]), [
      ['delivered', '250 ok', null, 1],
      ['delivered', '250 ok', null, 1],
    ]);
  } finally {
    await Promise.all([paused.close(), restarted.close(), other.close()]);
  }
});

test('postgres queue: two nodes queueing the failure DSN for the same recipients queue one DSN', async () => {
  const url = await freshSchema(await database);
  const [a, b] = await Promise.all([openAt(url), openAt(url)]);
  try {
    const m = accepted({}, [{ address: 'gone@remote.test', state: 'failed', lastReply: '550 5.1.1 no such user', dsnStatus: 'owed' }]);
    await a.queue.commit({ messages: [m], decisions: [] });
    const [owedA] = await a.queue.owedDsns(10);
    const [owedB] = await b.queue.owedDsns(10);
    const dsnFor = (work: typeof owedA, i: number) => ({
      message: { ...work!.message, id: newQueueId(new Date(T0 + 1000 + i)), kind: 'dsn' as const, mailFrom: '', receivedAt: T0 + 1000 },
      recipients: [{ address: 'alice@contoso.test', domain: 'contoso.test' }],
    });
    await Promise.all([
      a.queue.enqueueDsn(dsnFor(owedA, 0), owedA!.recipients.map((r) => r.id), 'failure', []),
      b.queue.enqueueDsn(dsnFor(owedB, 1), owedB!.recipients.map((r) => r.id), 'failure', []),
    ]);
    const entries = await a.admin.select({}, { limit: 10 });
    assert.deepEqual(entries.map((e) => e.message.kind), ['mail', 'dsn']);
    assert.equal(entries[0]!.recipients[0]!.dsnStatus, 'sent');
  } finally {
    await a.close();
    await b.close();
  }
});
