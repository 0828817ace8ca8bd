/**
 * The scheduler through its ports, without sockets: a real Scheduler on a real SQLite queue and
 * spool, with a resolver and a courier that are test doubles at the port (chasquid's TestCourier):
 * the courier records every job it is handed and answers with scripted results, so the queue's
 * rules (grouping by hop, recording after each transaction, retry, expiry, DSNs) are seen alone.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { ManualClock } from '../core/clock.js';
import type { Courier, NextHop, NextHopResolver, OnTransaction } from '../core/courier.js';
import type { DeliveryFailure, Job, RecipientResult } from '../core/envelope.js';
import { parseReply, Replies } from '../core/reply.js';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/database.js';
import { SqliteQueueAdminStore } from '../store/sqlite/queue-admin-store.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import { waitFor } from '../../test/support/wait-for.js';
import { FileBodyStore } from '../store/filesystem/body-store.js';
import { DsnGenerator } from './dsn-generator.js';
import { newQueueId } from './queue-id.js';
import { RetryPolicies, retryPolicy } from './retry-schedule.js';
import { DEFAULT_LEASE_MS, renewalInterval, Scheduler } from './scheduler.js';
import type { DestinationLimits } from './destination-shares.js';
import { SqliteDestinationBudget } from '../store/sqlite/destination-budget.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const MINUTE = 60_000;

/** What the courier was handed in one call: the hop and, per job, the message and its recipients. */
interface Delivery {
  hop: string;
  jobs: Array<{ kind: string; from: string; to: string[] }>;
}

type Script = (address: string, call: number) => RecipientResult | 'no result' | 'crash';

/** Records every call; answers each recipient with the script, telling the scheduler after each job as SMTP would. */
class RecordingCourier implements Courier {
  readonly deliveries: Delivery[] = [];
  private calls = new Map<string, number>();
  constructor(public script: Script = () => delivered) {}

  async deliver(hop: NextHop, jobs: readonly Job[], onTransaction?: OnTransaction): Promise<ReadonlyMap<number, RecipientResult>> {
    this.deliveries.push({ hop: hop.key, jobs: jobs.map((j) => ({ kind: j.message.kind, from: j.message.mailFrom, to: j.recipients.map((r) => r.address) })) });
    const results = new Map<number, RecipientResult>();
    for (const job of jobs) {
      for (const r of job.recipients) {
        const call = (this.calls.get(r.address) ?? 0) + 1;
        this.calls.set(r.address, call);
        const answer = this.script(r.address, call);
        if (answer === 'crash') throw new Error(`courier crashed on ${r.address}`);
        if (answer !== 'no result') results.set(r.id, answer);
      }
      await onTransaction?.(job, results);
    }
    return results;
  }

  /** Every recipient address handed over so far, in order. */
  recipients(): string[] {
    return this.deliveries.flatMap((d) => d.jobs.flatMap((j) => j.to));
  }
}

const delivered: RecipientResult = { kind: 'delivered', reply: parseReply('250 2.0.0 queued as 1'), host: 'mx.test' };
const failure = (response: string): DeliveryFailure => {
  const reply = parseReply(response);
  return { scope: 'recipient', permanent: reply.code >= 500, reply, remote: true };
};
const failed = (response: string): RecipientResult => ({ kind: 'failed', failure: failure(response), host: 'mx.test' });

/** One hop per domain, except `nowhere.test`, which does not exist. */
const resolver: NextHopResolver = {
  async resolve(_tenant, domain) {
    if (domain === 'nowhere.test') return { failure: { scope: 'message', permanent: true, remote: false, reply: Replies.noSuchDomain(domain) } };
    return { hop: { key: `mx:${domain}`, destination: domain } };
  },
};

let dir = '';
let db: SqliteDatabase;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(courier: RecordingCourier, log: string[] = [], leaseMs?: number, destinations?: (db: SqliteDatabase) => DestinationLimits) {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-scheduler-'));
  db = openSqlite(join(dir, 'relaygate.db'));
  const clock = new ManualClock(new Date(T0));
  const queue = new SqliteQueueStore(db);
  const bodies = new FileBodyStore(join(dir, 'spool'));
  const policies = new RetryPolicies(retryPolicy({ intervalsMs: [10 * MINUTE, 20 * MINUTE], expireAfterMs: 60 * MINUTE, delayNoticeAfterMs: 4 * 60 * MINUTE }));
  const scheduler = new Scheduler({
    queue, clock, owner: 'test-node', resolver, courier, policies, bodies,
    ...(leaseMs !== undefined ? { leaseMs } : {}),
    ...(destinations ? { destinations: destinations(db) } : {}),
    dsn: new DsnGenerator({ queue, bodies, clock, hostname: 'relay.test', policies }),
    log: (level, message) => log.push(`${level}: ${message}`),
  });

  /** Queues a message the way acceptance does: body, then the rows in one commit. */
  async function enqueue(from: string, to: string[]): Promise<{ id: string }> {
    const id = newQueueId(new Date(clock.now().getTime()));
    const body = `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${id}\r\n\r\nHello.\r\n`;
    const writer = await bodies.create(id);
    await pipeline(Readable.from([Buffer.from(body)]), writer.writable());
    await writer.commit();
    await queue.commit({
      messages: [{
        id, tenantId: null, tenant: 'contoso', connector: null, attribution: 'ip', directionality: 'Originating', mailFrom: from, envId: null, ret: null,
        bodyType: null, smtputf8: false, size: body.length, clientIp: '127.0.0.1', clientHelo: 'client.test', tls: null,
        headerFrom: from, subject: id, messageIdHeader: null, receivedAt: clock.now().getTime(),
        recipients: to.map((address) => ({ address, domain: address.slice(address.indexOf('@') + 1), notify: null, orcpt: null, state: 'queued' as const, lastReply: null, dsnStatus: null, verdict: 'relay' as const })),
      }],
      decisions: [],
    });
    return { id };
  }

  function rows(): Array<{ address: string; state: string; attempts: number; next_attempt_at: number; last_reply: string | null; dsn_status: string | null }> {
    return db.prepare('SELECT address, state, attempts, next_attempt_at, last_reply, dsn_status FROM recipients ORDER BY id').all() as never;
  }
  const messages = (): Array<{ kind: string; mail_from: string }> => db.prepare('SELECT kind, mail_from FROM messages ORDER BY id').all() as never;
  const messageIds = (): string[] => db.prepare('SELECT id FROM messages ORDER BY id').pluck().all() as string[];
  /** A stored body as text, or null when there is none. */
  const body = async (id: string): Promise<string | null> => {
    const stream = await bodies.open(id);
    return stream ? (await buffer(stream)).toString('utf8') : null;
  };
  const leases = async () => (await new SqliteQueueAdminStore(db).select({}, { limit: 100 })).flatMap((e) => e.recipients.map((r) => r.lease));
  return { clock, queue, scheduler, enqueue, rows, messages, messageIds, body, leases };
}

test('scheduler: one courier call per next hop, a job per message; delivered messages leave the queue and the spool', async () => {
  const courier = new RecordingCourier();
  const s = setup(courier);
  const first = await s.enqueue('alice@contoso.test', ['a@one.test', 'b@one.test', 'c@two.test']);
  const second = await s.enqueue('alice@contoso.test', ['d@one.test']);

  const pass = await s.scheduler.runOnce();

  assert.deepEqual(
    [...courier.deliveries].sort((x, y) => x.hop.localeCompare(y.hop)),
    [
      { hop: 'mx:one.test', jobs: [{ kind: 'mail', from: 'alice@contoso.test', to: ['a@one.test', 'b@one.test'] }, { kind: 'mail', from: 'alice@contoso.test', to: ['d@one.test'] }] },
      { hop: 'mx:two.test', jobs: [{ kind: 'mail', from: 'alice@contoso.test', to: ['c@two.test'] }] },
    ],
  );
  assert.deepEqual({ claimed: pass.claimed, delivered: pass.delivered, removed: pass.removed, dsns: pass.dsns }, { claimed: 4, delivered: 4, removed: 2, dsns: 0 });
  assert.deepEqual(s.messages(), []);
  assert.deepEqual([await s.body(first.id), await s.body(second.id)], [null, null], 'bodies removed with their messages');
});

test('scheduler: a temporary failure is retried on the schedule the clock drives, then expires with a DSN that goes out through the courier too', async () => {
  const courier = new RecordingCourier((address) => (address === 'slow@one.test' ? failed('451 4.2.0 mailbox busy') : delivered));
  const s = setup(courier);
  await s.enqueue('alice@contoso.test', ['slow@one.test']);

  assert.equal((await s.scheduler.runOnce()).deferred, 1);
  assert.deepEqual(s.rows().map((r) => [r.state, r.attempts, r.next_attempt_at - T0, r.last_reply]), [['deferred', 1, 10 * MINUTE, '451 4.2.0 mailbox busy']]);
  assert.equal((await s.scheduler.runOnce()).claimed, 0, 'not due before its time');

  s.clock.advance(10 * MINUTE);
  assert.equal((await s.scheduler.runOnce()).deferred, 1);
  assert.deepEqual(s.rows().map((r) => [r.state, r.attempts, r.next_attempt_at - T0]), [['deferred', 2, 30 * MINUTE]], 'the second wait is the second interval');

  s.clock.advance(20 * MINUTE);
  await s.scheduler.runOnce();
  assert.deepEqual(s.rows().map((r) => [r.state, r.attempts, r.next_attempt_at - T0]), [['deferred', 3, 50 * MINUTE]], 'the last interval repeats');

  s.clock.advance(20 * MINUTE);
  await s.scheduler.runOnce();
  assert.deepEqual(s.rows().map((r) => [r.state, r.attempts, r.next_attempt_at - T0]), [['deferred', 4, 60 * MINUTE]], 'never later than the expiry');

  s.clock.advance(10 * MINUTE);
  const last = await s.scheduler.runOnce();
  assert.deepEqual({ expired: last.expired, dsns: last.dsns }, { expired: 1, dsns: 1 });
  // The expired original is done (its DSN is queued), so it left the queue in the same pass.
  assert.deepEqual(s.messages().map((m) => [m.kind, m.mail_from]), [['dsn', '']]);
  assert.deepEqual(s.rows().map((r) => [r.address, r.state]), [['alice@contoso.test', 'queued']]);
  const report = await s.body(s.messageIds()[0]!);
  assert.ok(report !== null, 'the DSN has its body');
  assert.match(report, /\r\nAction: failed\r\nStatus: 5\.4\.7\r\n/);
  assert.match(report, /\r\nDiagnostic-Code: X-Relaygate; 550 5\.4\.7 Delivery time expired after 1 hour; last error: 451 4\.2\.0 mailbox busy\r\n/);

  await s.scheduler.runOnce();
  assert.deepEqual(courier.deliveries.at(-1), { hop: 'mx:contoso.test', jobs: [{ kind: 'dsn', from: '', to: ['alice@contoso.test'] }] });
  assert.deepEqual(courier.recipients(), [...Array(5).fill('slow@one.test'), 'alice@contoso.test'], 'five attempts, then the DSN');
  assert.deepEqual(s.messages(), [], 'the DSN delivered too');
});

test('scheduler: a permanent failure bounces at once, a throttled recipient waits without using an attempt, an unroutable one never reaches the courier', async () => {
  const courier = new RecordingCourier((address, call) => {
    if (address === 'gone@one.test') return failed('550 5.1.1 no such user');
    if (address === 'later@one.test' && call === 1) return { kind: 'throttled', retryAt: T0 + 5 * MINUTE, text: 'one.test: 10 messages a minute' };
    return delivered;
  });
  const s = setup(courier);
  await s.enqueue('alice@contoso.test', ['gone@one.test', 'later@one.test', 'x@nowhere.test']);

  const pass = await s.scheduler.runOnce();
  assert.deepEqual({ failed: pass.failed, throttled: pass.throttled, dsns: pass.dsns }, { failed: 2, throttled: 1, dsns: 1 });
  assert.deepEqual(courier.recipients(), ['gone@one.test', 'later@one.test']);
  assert.deepEqual(
    s.rows().slice(0, 3).map((r) => [r.address, r.state, r.attempts, r.last_reply]),
    [
      ['gone@one.test', 'failed', 1, '550 5.1.1 no such user'],
      ['later@one.test', 'queued', 0, 'throttled: one.test: 10 messages a minute'],
      ['x@nowhere.test', 'failed', 1, '550 5.1.2 Host or domain name not found: nowhere.test (NXDOMAIN)'],
    ],
  );
  assert.equal(s.rows()[1]!.next_attempt_at, T0 + 5 * MINUTE);

  s.clock.advance(5 * MINUTE);
  await s.scheduler.runOnce();
  assert.deepEqual(courier.recipients().slice(2).sort(), ['alice@contoso.test', 'later@one.test'], 'the throttled recipient, and the DSN for the two failures');
  assert.deepEqual(s.messages(), []);
});

test('scheduler: what a transaction settled is recorded before the courier goes on, so a crash later in the hop keeps it', async () => {
  const courier = new RecordingCourier((address) => (address === 'second@one.test' ? 'crash' : delivered));
  const s = setup(courier);
  await s.enqueue('alice@contoso.test', ['first@one.test']);
  await s.enqueue('alice@contoso.test', ['second@one.test']);

  await assert.rejects(s.scheduler.runOnce(), /courier crashed on second@one.test/);
  assert.deepEqual(s.rows().map((r) => [r.address, r.state]), [['first@one.test', 'delivered'], ['second@one.test', 'inflight']], 'the crash leaves its lease to run out');

  courier.script = () => delivered;
  s.clock.advance(10 * MINUTE);
  await s.scheduler.runOnce();
  assert.deepEqual(courier.recipients(), ['first@one.test', 'second@one.test', 'second@one.test'], 'the delivered one is never handed over again');
  assert.deepEqual(s.messages(), []);
});

test('scheduler: a recipient the courier gives no result for is due again, with no attempt counted and no reply made up', async () => {
  const log: string[] = [];
  const courier = new RecordingCourier((address) => (address === 'lost@one.test' ? 'no result' : delivered));
  const s = setup(courier, log);
  await s.enqueue('alice@contoso.test', ['ok@one.test', 'lost@one.test']);

  await s.scheduler.runOnce();
  assert.deepEqual(s.rows().map((r) => [r.address, r.state, r.attempts, r.last_reply, r.next_attempt_at - T0]), [
    ['ok@one.test', 'delivered', 1, '250 2.0.0 queued as 1', 0],
    ['lost@one.test', 'queued', 0, null, 1_000],
  ]);
  assert.equal(log.filter((l) => /^warn: delivery to one\.test gave no result for recipient \d+; it is due again$/.test(l)).length, 1);
});

/** A courier that holds every delivery until the test lets it go: a destination that is slow to answer. */
class HeldCourier extends RecordingCourier {
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  entered = false;
  letGo(): void {
    this.release();
  }
  override async deliver(hop: NextHop, jobs: readonly Job[], onTransaction?: OnTransaction): Promise<ReadonlyMap<number, RecipientResult>> {
    this.entered = true;
    await this.gate;
    return super.deliver(hop, jobs, onTransaction);
  }
}

test('scheduler: a pass renews its leases while the courier is slow, so another node never takes them over', async () => {
  const courier = new HeldCourier();
  const s = setup(courier, [], 300);
  await s.enqueue('alice@contoso.test', ['slow@one.test']);
  const pass = s.scheduler.runOnce();
  try {
    await waitFor(() => courier.entered, { message: 'the courier was handed the job' });
    assert.deepEqual(await s.leases(), [{ owner: 'test-node', until: T0 + 300 }]);
    // Time goes on past the first lease's end; each step is shorter than a lease, and the pass renews.
    for (const step of [1, 2]) {
      s.clock.advance(200);
      const until = s.clock.now().getTime() + 300;
      await waitFor(async () => (await s.leases())[0]?.until === until, { message: `the lease renewed to ${until} (step ${step})` });
    }
    assert.ok(s.clock.now().getTime() > T0 + 300, 'the first lease would have run out by now');
    assert.deepEqual(await s.queue.claimDue('other-node', s.clock.now().getTime(), 300, 10), [], 'another node cannot claim a renewed lease');
  } finally {
    courier.letGo();
  }
  assert.equal((await pass).delivered, 1);
  assert.deepEqual(courier.recipients(), ['slow@one.test']);
  assert.deepEqual(s.messages(), []);
});

test('scheduler: a lease lasts 60 to 120 s unless configured, and is renewed every third of whatever it is', () => {
  assert.ok(DEFAULT_LEASE_MS >= 60_000 && DEFAULT_LEASE_MS <= 120_000, `default lease ${DEFAULT_LEASE_MS} ms`);
  assert.deepEqual([DEFAULT_LEASE_MS, 300, 2_000].map(renewalInterval), [DEFAULT_LEASE_MS / 3, 100, 666]);
});

test('scheduler: a node that stopped renewing loses its leases once they run out', async () => {
  const courier = new RecordingCourier();
  const s = setup(courier, [], 300);
  await s.enqueue('alice@contoso.test', ['a@one.test']);
  await s.queue.claimDue('dead-node', T0, 300, 10);
  assert.equal((await s.scheduler.runOnce()).claimed, 0, 'the dead node\'s lease still runs');
  s.clock.advance(300);
  assert.equal((await s.scheduler.runOnce()).delivered, 1);
  assert.deepEqual(courier.recipients(), ['a@one.test']);
});

test('scheduler: an outcome whose lease passed to another node meanwhile is refused, counted and logged, and the other node\'s stands', async () => {
  // This node's attempt fails for good: applied, it would owe the sender a failure DSN.
  const courier = new HeldCourier();
  courier.script = () => failed('550 5.1.1 no such user');
  const log: string[] = [];
  const s = setup(courier, log, 300);
  await s.enqueue('alice@contoso.test', ['slow@one.test']);
  const pass = s.scheduler.runOnce();
  let taken;
  try {
    await waitFor(() => courier.entered, { message: 'the courier was handed the job' });
    // This node stalls past its lease (no renewal gets in between); another claims and delivers.
    s.clock.advance(301);
    [taken] = await s.queue.claimDue('other-node', s.clock.now().getTime(), 300, 10);
    const r = taken!.recipients[0]!;
    assert.equal(await s.queue.record('other-node', [{ id: r.id, generation: r.generation, state: 'delivered', reply: '250 2.0.0 other', remoteMta: 'mx.test', attempted: true }], s.clock.now().getTime()), 1);
  } finally {
    courier.letGo();
  }
  const summary = await pass;
  assert.deepEqual([summary.failed, summary.refused, summary.dsns, s.scheduler.refusedOutcomes], [1, 1, 0, 1]);
  assert.deepEqual(s.messages(), [], "the other node's delivery stands: the message is complete, and no DSN was made");
  assert.deepEqual(log.filter((l) => l.includes('not recorded')), [`warn: 1 outcomes not recorded: their lease had passed to another scheduler (recipients ${taken!.recipients[0]!.id} of this write)`]);
});

test('scheduler: while other nodes hold all of a destination\'s slots its recipients wait, throttled; once given back they go, and this node gives its own back', async () => {
  const courier = new RecordingCourier();
  let budget!: SqliteDestinationBudget;
  const s = setup(courier, [], undefined, (db) => ({ budget: (budget = new SqliteDestinationBudget(db)), concurrency: 2, perMinute: 0 }));
  await s.enqueue('alice@contoso.test', ['a@one.test', 'b@two.test']);
  await budget.acquireSlots('other-node', 'one.test', 2, 2, T0, T0 + MINUTE);
  const first = await s.scheduler.runOnce();
  assert.deepEqual([first.delivered, first.throttled], [1, 1]);
  assert.deepEqual(courier.recipients(), ['b@two.test']);
  assert.deepEqual(s.rows()[0], {
    address: 'a@one.test', state: 'queued', attempts: 0, next_attempt_at: T0 + 1_000, last_reply: 'throttled: limit of 2 concurrent connections to one.test reached', dsn_status: null,
  });
  await budget.releaseSlots('other-node');
  s.clock.advance(1_000);
  assert.equal((await s.scheduler.runOnce()).delivered, 1);
  assert.deepEqual(courier.recipients(), ['b@two.test', 'a@one.test']);
  assert.equal(await budget.acquireSlots('next-node', 'one.test', 2, 2, s.clock.now().getTime(), T0 + MINUTE), 2, 'the scheduler gave its slots back');
});

test('scheduler: when the destination budget cannot be read, the destination\'s recipients wait without an attempt, and it is logged', async () => {
  const courier = new RecordingCourier();
  const log: string[] = [];
  const failing = {
    acquireSlots: async () => { throw new Error('database unreachable'); },
    renewSlots: async () => 0, releaseSlots: async () => undefined, countMessages: async () => 0,
  };
  const s = setup(courier, log, undefined, () => ({ budget: failing, concurrency: 2, perMinute: 0 }));
  await s.enqueue('alice@contoso.test', ['a@one.test']);
  assert.equal((await s.scheduler.runOnce()).throttled, 1);
  assert.deepEqual(courier.deliveries, []);
  assert.deepEqual(s.rows().map((r) => [r.state, r.attempts, r.next_attempt_at, r.last_reply]), [['queued', 0, T0 + 1_000, 'throttled: budget of one.test not available']]);
  assert.deepEqual(log, ['warn: connection slots to one.test not taken: database unreachable']);
});

test('scheduler: when a destination\'s messages cannot be counted, its recipients wait without an attempt, and its slots go back', async () => {
  const courier = new RecordingCourier();
  const log: string[] = [];
  let budget!: SqliteDestinationBudget;
  const s = setup(courier, log, undefined, (db) => {
    budget = new SqliteDestinationBudget(db);
    return { budget: Object.assign(Object.create(budget) as SqliteDestinationBudget, { countMessages: async () => { throw new Error('database unreachable'); } }), concurrency: 2, perMinute: 10 };
  });
  await s.enqueue('alice@contoso.test', ['a@one.test']);
  assert.equal((await s.scheduler.runOnce()).throttled, 1);
  assert.deepEqual(courier.deliveries, []);
  assert.deepEqual(s.rows().map((r) => [r.state, r.attempts, r.next_attempt_at, r.last_reply]), [['queued', 0, T0 + 1_000, 'throttled: budget of one.test not available']]);
  assert.deepEqual(log, ['warn: messages to one.test not counted: database unreachable']);
  assert.equal(await budget.acquireSlots('other-node', 'one.test', 2, 2, T0, T0 + MINUTE), 2, 'its slots were given back');
});

test('scheduler: a destination\'s per-minute rate is one count for every scheduler on the store', async () => {
  const courier = new RecordingCourier();
  let budget!: SqliteDestinationBudget;
  const s = setup(courier, [], undefined, (db) => ({ budget: (budget = new SqliteDestinationBudget(db)), concurrency: 10, perMinute: 3 }));
  // Another node sent one message to one.test in this minute already.
  assert.equal(await budget.countMessages('one.test', T0, 1, 3), 1);
  for (const to of ['a', 'b', 'c', 'd']) await s.enqueue('alice@contoso.test', [`${to}@one.test`]);
  const pass = await s.scheduler.runOnce();
  assert.deepEqual([pass.delivered, pass.throttled], [2, 2]);
  assert.deepEqual(
    s.rows().filter((r) => r.state === 'queued').map((r) => [r.attempts, r.next_attempt_at, r.last_reply]),
    [[0, T0 + MINUTE, 'throttled: rate limit of 3 messages per minute to one.test reached'], [0, T0 + MINUTE, 'throttled: rate limit of 3 messages per minute to one.test reached']],
  );
});
