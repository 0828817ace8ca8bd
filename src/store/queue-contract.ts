/**
 * The QueueStore contract (acceptance and delivery): every adapter runs these tests against a real
 * database (sqlite/queue-store.test.ts; the PostgreSQL adapter adds its own caller). The rules they
 * check are those of queue/states.ts as the adapter must keep them: leases, guarded outcomes, DSNs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newQueueId } from '../queue/queue-id.js';
import type {
  AcceptedMessage, AcceptedRecipient, ClaimedWork, DecisionRecord, DecisionStore, DirectoryStore, LeaseToken, QueueAdminStore, QueueStore, TraceStore,
} from './ports.js';

/** The queue's ports on one database. */
export interface OpenedQueue {
  queue: QueueStore;
  admin: QueueAdminStore;
  decisions: DecisionStore;
  trace: TraceStore;
  /** The directory on the same database: queued messages refer to its tenants by id. */
  directory: DirectoryStore;
  /** Closes the handle; `reopen` opens the same database again (durability). */
  close(): Promise<void>;
  reopen(): Promise<OpenedQueue>;
  /** A second handle on the same database, as another process on the same data has. */
  another(): Promise<OpenedQueue>;
}

export const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const MINUTE = 60_000;

/** A message as acceptance commits it; `to` entries are addresses or recipient overrides. */
export function accepted(
  over: Partial<Omit<AcceptedMessage, 'recipients'>> = {},
  to: Array<string | (Partial<AcceptedRecipient> & { address: string })> = ['a@remote.test'],
): AcceptedMessage {
  const receivedAt = over.receivedAt ?? T0;
  return {
    id: newQueueId(new Date(receivedAt)),
    tenantId: null, tenant: 'contoso', connector: 'apps', attribution: 'ip', directionality: 'Originating', mailFrom: 'alice@contoso.test',
    envId: 'ENV1', ret: 'HDRS', bodyType: '8BITMIME', smtputf8: false, size: 123, clientIp: '192.0.2.7', clientHelo: 'app.contoso.test',
    tls: 'TLSv1.3 TLS_AES_256_GCM_SHA384', headerFrom: 'alice@contoso.test', subject: 'hello', messageIdHeader: '<1@contoso.test>', receivedAt,
    ...over,
    recipients: to.map((t) => {
      const r = typeof t === 'string' ? { address: t } : t;
      return {
        domain: r.address.slice(r.address.lastIndexOf('@') + 1), notify: null, orcpt: null, state: 'queued' as const, lastReply: null, dsnStatus: null,
        verdict: 'relay' as const,
        ...r,
      };
    }),
  };
}

export function decision(over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    at: T0, sessionId: 's1', messageId: null, clientIp: '192.0.2.7', tenantId: null, tenant: 'contoso', connector: 'apps', attribution: 'ip',
    mailFrom: 'alice@contoso.test', recipient: 'a@remote.test', verdict: 'relay', reply: '250 2.1.5 Recipient OK', ruleSet: '2023-11',
    currentVerdict: 'relay', legacyVerdict: 'relay', certificateName: null, headerFromDomain: null, remedies: [], steps: '[{"step":"A1"}]', ...over,
  };
}

export function queueStoreContract(adapter: string, open: () => Promise<OpenedQueue>): void {
  const withQueue = (name: string, fn: (o: OpenedQueue) => Promise<void>): void => {
    test(`${adapter} queue store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withQueue('a committed message comes back to delivery with its envelope and recipients', async ({ queue }) => {
    const m = accepted({}, ['a@remote.test', { address: 'b@other.test', notify: 'FAILURE,DELAY', orcpt: 'rfc822;b@other.test', verdict: 'internal' }]);
    await queue.commit({ messages: [m], decisions: [] });
    assert.deepEqual(await queue.existingMessages([m.id, newQueueId(new Date(T0))]), new Set([m.id]));
    const [work, ...more] = await queue.claimDue('node-a', T0, 10 * MINUTE, 10);
    assert.deepEqual(more, []);
    assert.deepEqual(work?.message, {
      id: m.id, kind: 'mail', tenantId: null, tenant: 'contoso', attribution: 'ip', directionality: 'Originating', mailFrom: 'alice@contoso.test',
      envId: 'ENV1', ret: 'HDRS', bodyType: '8BITMIME', smtputf8: false, size: 123, headerFrom: 'alice@contoso.test', receivedAt: T0,
      outsideRecipients: 1,
    });
    assert.deepEqual(
      work?.recipients.map(({ id: _id, ...r }) => r),
      [
        { messageId: m.id, address: 'a@remote.test', domain: 'remote.test', notify: null, orcpt: null, relayed: true, state: 'inflight', attempts: 0, lastReply: null, lastAttemptAt: null, lastRemoteMta: null, generation: 1 },
        { messageId: m.id, address: 'b@other.test', domain: 'other.test', notify: 'FAILURE,DELAY', orcpt: 'rfc822;b@other.test', relayed: false, state: 'inflight', attempts: 0, lastReply: null, lastAttemptAt: null, lastRemoteMta: null, generation: 1 },
      ],
    );
  });

  withQueue('a message is queued under its tenant id and keeps it through a rename, with the name it was accepted under', async ({ queue, admin, directory }) => {
    await directory.addTenant({ name: 'contoso' });
    const [tenant] = (await directory.load()).tenants;
    const m = accepted({ tenantId: tenant!.id }, ['a@remote.test', { address: 'b@remote.test', state: 'failed', lastReply: '550 5.1.1 no', dsnStatus: 'owed' }]);
    await queue.commit({ messages: [m], decisions: [] });
    await directory.replace({ tenants: [{ ...tenant!, name: 'Northwind' }] });
    const [work] = await queue.claimDue('node-a', T0, MINUTE, 10);
    assert.deepEqual([work?.message.tenantId, work?.message.tenant], [tenant!.id, 'contoso']);
    const [owed] = await queue.owedDsns(10);
    const dsnId = newQueueId(new Date(T0 + 1000));
    await queue.enqueueDsn({ message: { ...owed!.message, id: dsnId, kind: 'dsn', mailFrom: '', receivedAt: T0 + 1000 }, recipients: [{ address: 'alice@contoso.test', domain: 'contoso.test' }] }, owed!.recipients.map((r) => r.id), 'failure', []);
    const [dsn] = await admin.select({ ids: [dsnId] }, { limit: 1 });
    assert.deepEqual([dsn?.message.tenantId, dsn?.message.tenant], [tenant!.id, 'contoso'], 'a DSN belongs to the tenant of its message');
  });

  withQueue("removing the tenant leaves its queued messages, with a null tenant id and the name kept", async ({ queue, directory }) => {
    await directory.addTenant({ name: 'contoso' });
    const [tenant] = (await directory.load()).tenants;
    const m = accepted({ tenantId: tenant!.id });
    await queue.commit({ messages: [m], decisions: [] });
    await directory.removeTenant('contoso');
    const [work] = await queue.claimDue('node-a', T0, MINUTE, 10);
    assert.deepEqual([work?.message.id, work?.message.tenantId, work?.message.tenant], [m.id, null, 'contoso']);
  });

  withQueue('a tenant id the directory no longer has is stored as null, and the rest of the batch with it', async ({ queue, directory }) => {
    await directory.addTenant({ name: 'contoso' });
    const [tenant] = (await directory.load()).tenants;
    // Decided while the tenant existed, committed after its removal.
    const [gone, kept] = [accepted({ tenantId: '01JGZZZZZZZZZZZZZZZZZZZZZZ' }), accepted({ tenantId: tenant!.id })];
    await queue.commit({ messages: [gone, kept], decisions: [] });
    const works = await queue.claimDue('node-a', T0, MINUTE, 10);
    assert.deepEqual(
      works.map((w) => [w.message.id, w.message.tenantId, w.message.tenant]).sort(),
      [[gone.id, null, 'contoso'], [kept.id, tenant!.id, 'contoso']].sort(),
    );
  });

  withQueue('a commit is all or nothing: a message that cannot be stored takes the batch and its decisions with it', async ({ queue, decisions }) => {
    const first = accepted();
    await queue.commit({ messages: [first], decisions: [] });
    const fresh = accepted();
    await assert.rejects(queue.commit({ messages: [fresh, { ...accepted(), id: first.id }], decisions: [decision({ messageId: fresh.id })] }));
    assert.deepEqual(await queue.existingMessages([first.id, fresh.id]), new Set([first.id]));
    assert.deepEqual(await decisions.list(), []);
  });

  withQueue('decisions committed with their message are in the log', async ({ queue, decisions }) => {
    const m = accepted();
    await queue.commit({ messages: [m], decisions: [decision({ messageId: m.id }), decision({ messageId: null, recipient: 'x@elsewhere.test', verdict: 'rejected' })] });
    assert.deepEqual((await decisions.list()).map((d) => [d.messageId, d.verdict]), [[null, 'rejected'], [m.id, 'relay']]);
  });

  withQueue('claims take due recipients only, oldest first, at most the limit, and a refused one never', async ({ queue }) => {
    const later = accepted({ receivedAt: T0 + 5 * MINUTE });
    const early = accepted({}, ['a@remote.test', 'b@remote.test']);
    const refused = accepted({}, [{ address: 'c@remote.test', state: 'failed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsnStatus: 'owed' }]);
    await queue.commit({ messages: [later, early, refused], decisions: [] });
    assert.deepEqual(await queue.claimDue('node-a', T0 - 1, MINUTE, 10), [], 'nothing is due before it was received');
    const first = await queue.claimDue('node-a', T0 + 10 * MINUTE, MINUTE, 2);
    assert.deepEqual(first.map((w) => [w.message.id, w.recipients.map((r) => r.address)]), [[early.id, ['a@remote.test', 'b@remote.test']]]);
    const rest = await queue.claimDue('node-a', T0 + 10 * MINUTE, MINUTE, 10);
    assert.deepEqual(rest.map((w) => [w.message.id, w.recipients.map((r) => r.address)]), [[later.id, ['a@remote.test']]]);
  });

  withQueue('a live lease is not claimed again, by its owner or another; once it runs out anyone may claim it', async ({ queue }) => {
    await queue.commit({ messages: [accepted()], decisions: [] });
    assert.equal((await queue.claimDue('node-a', T0, MINUTE, 10)).length, 1);
    assert.deepEqual(await queue.claimDue('node-b', T0 + MINUTE - 1, MINUTE, 10), []);
    assert.deepEqual(await queue.claimDue('node-a', T0 + MINUTE - 1, MINUTE, 10), []);
    assert.equal((await queue.claimDue('node-b', T0 + MINUTE, MINUTE, 10)).length, 1);
  });

  withQueue("renewing extends only this owner's live leases", async ({ queue, admin }) => {
    const lapsed = accepted({ receivedAt: T0 - 10 * MINUTE }, ['c@remote.test']);
    await queue.commit({ messages: [lapsed], decisions: [] });
    const tokens = (works: ClaimedWork[]): LeaseToken[] => works.flatMap((w) => w.recipients.map((r) => ({ id: r.id, generation: r.generation })));
    const lapsedLease = tokens(await queue.claimDue('node-a', T0 - 10 * MINUTE, 5 * MINUTE, 1));
    const [mine, theirs] = [accepted({ receivedAt: T0 - 10 * MINUTE }, ['a@remote.test']), accepted({ receivedAt: T0 - 10 * MINUTE }, ['b@remote.test'])];
    await queue.commit({ messages: [mine, theirs], decisions: [] });
    const mineLease = tokens(await queue.claimDue('node-a', T0 - 10 * MINUTE, 20 * MINUTE, 1));
    const theirLease = tokens(await queue.claimDue('node-b', T0 - 10 * MINUTE, 20 * MINUTE, 1));
    assert.equal(await queue.renewLeases('node-a', [...lapsedLease, ...mineLease, ...theirLease], T0, MINUTE), 1, 'only the live one: the lapsed lease is not revived');
    const leases = Object.fromEntries((await admin.select({}, { limit: 10 })).flatMap((e) => e.recipients.map((r) => [r.address, r.lease])));
    assert.deepEqual(leases, {
      'a@remote.test': { owner: 'node-a', until: T0 + MINUTE },
      'b@remote.test': { owner: 'node-b', until: T0 + 10 * MINUTE },
      'c@remote.test': { owner: 'node-a', until: T0 - 5 * MINUTE },
    });
    const claimed = await queue.claimDue('node-b', T0, MINUTE, 10);
    assert.deepEqual(claimed.flatMap((w) => w.recipients.map((r) => r.address)), ['c@remote.test'], 'the lapsed one is anybody\'s');
  });

  withQueue("releasing makes this owner's in-flight recipients due at once and leaves other owners' alone", async ({ queue, admin }) => {
    const mine = accepted({}, ['a@remote.test', 'b@remote.test']);
    const theirs = accepted({}, ['c@remote.test']);
    await queue.commit({ messages: [mine], decisions: [] });
    await queue.claimDue('node-a', T0, 10 * MINUTE, 10);
    await queue.commit({ messages: [theirs], decisions: [] });
    await queue.claimDue('node-b', T0, 10 * MINUTE, 10);
    assert.equal(await queue.releaseLeases('node-a', T0 + MINUTE), 2);
    assert.equal(await queue.releaseLeases('node-a', T0 + MINUTE), 0);
    const entries = await admin.select({}, { limit: 10 });
    assert.deepEqual(
      entries.flatMap((e) => e.recipients.map((r) => [r.address, r.state, r.lease?.owner ?? null, r.attempts])).sort(),
      [['a@remote.test', 'queued', null, 0], ['b@remote.test', 'queued', null, 0], ['c@remote.test', 'inflight', 'node-b', 0]],
    );
    const again = await queue.claimDue('node-a', T0 + MINUTE, 10 * MINUTE, 10);
    assert.deepEqual(again.flatMap((w) => w.recipients.map((r) => r.address)), ['a@remote.test', 'b@remote.test']);
  });

  withQueue('outcomes apply only for the holder of the lease, and change what the rules say', async ({ queue, admin }) => {
    const m = accepted({}, ['ok@remote.test', 'later@remote.test', 'bad@remote.test', 'wait@remote.test']);
    await queue.commit({ messages: [m], decisions: [] });
    const [work] = await queue.claimDue('node-a', T0, MINUTE, 10);
    const [ok, later, bad, wait] = work!.recipients.map((r) => ({ id: r.id, generation: r.generation }));
    const outcomes = [
      { ...ok!, state: 'delivered' as const, reply: '250 2.0.0 queued as 1', remoteMta: 'mx.remote.test', attempted: true },
      { ...later!, state: 'deferred' as const, reply: '451 4.2.0 busy', remoteMta: 'mx.remote.test', nextAttemptAt: T0 + 10 * MINUTE, attempted: true },
      { ...bad!, state: 'failed' as const, reply: '550 5.1.1 no such user', remoteMta: 'mx.remote.test', attempted: true, dsnStatus: 'owed' as const },
      { ...wait!, state: 'queued' as const, reply: 'throttled: later', remoteMta: null, nextAttemptAt: T0 + 2 * MINUTE, attempted: false },
    ];
    assert.equal(await queue.record('node-b', outcomes, T0 + 1000), 0, 'another node holds no lease on them');
    assert.equal(await queue.record('node-a', outcomes, T0 + 1000), 4);
    assert.equal(await queue.record('node-a', outcomes, T0 + 2000), 0, 'an outcome is recorded once');
    const [entry] = await admin.select({ ids: [m.id] }, { limit: 1 });
    assert.deepEqual(
      entry?.recipients.map((r) => [r.address, r.state, r.attempts, r.lastReply, r.lastRemoteMta, r.lastAttemptAt, r.nextAttemptAt, r.dsnStatus]),
      [
        ['ok@remote.test', 'delivered', 1, '250 2.0.0 queued as 1', 'mx.remote.test', T0 + 1000, T0, null],
        ['later@remote.test', 'deferred', 1, '451 4.2.0 busy', 'mx.remote.test', T0 + 1000, T0 + 10 * MINUTE, null],
        ['bad@remote.test', 'failed', 1, '550 5.1.1 no such user', 'mx.remote.test', T0 + 1000, T0, 'owed'],
        ['wait@remote.test', 'queued', 0, 'throttled: later', null, null, T0 + 2 * MINUTE, null],
      ],
    );
    const again = await queue.claimDue('node-b', T0 + 10 * MINUTE, MINUTE, 10);
    assert.deepEqual(again.flatMap((w) => w.recipients.map((r) => [r.address, r.attempts])), [['wait@remote.test', 0], ['later@remote.test', 1]]);
  });

  withQueue("fencing: once a lease ran out and another owner claimed it, the first owner's outcome is refused and the second's applies", async (o) => {
    const other = await o.another();
    try {
      const m = accepted();
      await o.queue.commit({ messages: [m], decisions: [] });
      const [first] = await o.queue.claimDue('node-a', T0, MINUTE, 10);
      const [second] = await other.queue.claimDue('node-b', T0 + MINUTE, MINUTE, 10);
      const [a, b] = [first!.recipients[0]!, second!.recipients[0]!];
      assert.equal(a.id, b.id);
      assert.notEqual(a.generation, b.generation, 'every claim gives the lease a new generation');
      const late = { id: a.id, generation: a.generation, state: 'failed' as const, reply: '550 5.1.1 late', remoteMta: 'mx.remote.test', attempted: true, dsnStatus: 'owed' as const };
      assert.equal(await o.queue.renewLeases('node-a', [a], T0 + MINUTE + 1, MINUTE), 0, 'the first owner cannot renew it either');
      assert.equal(await o.queue.record('node-a', [late], T0 + MINUTE + 1), 0, "the first owner's outcome is refused");
      assert.equal(await other.queue.record('node-b', [{ id: b.id, generation: b.generation, state: 'delivered', reply: '250 ok', remoteMta: 'mx.remote.test', attempted: true }], T0 + MINUTE + 2), 1);
      const [entry] = await o.admin.select({ ids: [m.id] }, { limit: 1 });
      assert.deepEqual(entry!.recipients.map((r) => [r.state, r.lastReply, r.dsnStatus, r.attempts, r.lease]), [['delivered', '250 ok', null, 1, null]]);
    } finally {
      await other.close();
    }
  });

  withQueue('fencing: a later run under the same node id claims again, and the earlier run\'s outcome and renewal are refused', async ({ queue, admin }) => {
    const m = accepted();
    await queue.commit({ messages: [m], decisions: [] });
    const [before] = await queue.claimDue('node-a', T0, 10 * MINUTE, 10);
    // The node restarts (its previous run presumed dead) and claims the recipient again at once.
    assert.equal(await queue.releaseLeases('node-a', T0 + MINUTE), 1);
    const [after] = await queue.claimDue('node-a', T0 + MINUTE, 10 * MINUTE, 10);
    const [stale, current] = [before!.recipients[0]!, after!.recipients[0]!];
    assert.equal(await queue.renewLeases('node-a', [stale], T0 + 2 * MINUTE, 10 * MINUTE), 0);
    assert.equal(await queue.record('node-a', [{ id: stale.id, generation: stale.generation, state: 'delivered', reply: '250 stale', attempted: true }], T0 + 2 * MINUTE), 0);
    assert.equal(await queue.renewLeases('node-a', [current], T0 + 2 * MINUTE, 10 * MINUTE), 1);
    const [held] = await admin.select({ ids: [m.id] }, { limit: 1 });
    assert.deepEqual([held!.recipients[0]!.state, held!.recipients[0]!.lease], ['inflight', { owner: 'node-a', until: T0 + 12 * MINUTE }]);
    assert.equal(await queue.record('node-a', [{ id: current.id, generation: current.generation, state: 'delivered', reply: '250 current', attempted: true }], T0 + 3 * MINUTE), 1);
    const [entry] = await admin.select({ ids: [m.id] }, { limit: 1 });
    assert.deepEqual(entry!.recipients.map((r) => [r.state, r.lastReply, r.attempts]), [['delivered', '250 current', 1]]);
  });

  withQueue('an outcome the rules forbid is refused and changes nothing', async ({ queue, admin }) => {
    const m = accepted();
    await queue.commit({ messages: [m], decisions: [] });
    const [work] = await queue.claimDue('node-a', T0, MINUTE, 10);
    const { id, generation } = work!.recipients[0]!;
    await assert.rejects(queue.record('node-a', [{ id, generation, state: 'held' as never, reply: null, attempted: false }], T0), /a recipient cannot go from inflight to held/);
    const [entry] = await admin.select({ ids: [m.id] }, { limit: 1 });
    assert.equal(entry?.recipients[0]?.state, 'inflight');
  });

  withQueue('two handles claiming at once never lease the same recipient', async (o) => {
    const other = await o.another();
    try {
      const messages = Array.from({ length: 20 }, (_, i) => accepted({}, [`u${i}@remote.test`, `v${i}@remote.test`]));
      await o.queue.commit({ messages, decisions: [] });
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? o.queue : other.queue).claimDue(`node-${i}`, T0, MINUTE, 7)),
      );
      const ids = claims.flat().flatMap((w) => w.recipients.map((r) => r.id));
      assert.equal(ids.length, 40, 'every recipient is claimed');
      assert.equal(new Set(ids).size, 40, 'and none twice');
    } finally {
      await other.close();
    }
  });

  withQueue('owed failure DSNs: listed, then queued as a new null-sender message and marked sent, or suppressed', async ({ queue, admin }) => {
    const m = accepted({}, [
      { address: 'gone@remote.test', state: 'failed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsnStatus: 'owed' },
      { address: 'quiet@remote.test', state: 'failed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsnStatus: 'owed', notify: 'NEVER' },
      'fine@remote.test',
    ]);
    await queue.commit({ messages: [m], decisions: [] });
    const [owed] = await queue.owedDsns(10);
    assert.deepEqual(owed?.recipients.map((r) => r.address), ['gone@remote.test', 'quiet@remote.test']);
    const [gone, quiet] = owed!.recipients.map((r) => r.id);
    const dsnId = newQueueId(new Date(T0 + 1000));
    await queue.enqueueDsn(
      {
        message: { ...owed!.message, id: dsnId, kind: 'dsn', mailFrom: '', envId: null, ret: null, bodyType: null, size: 999, headerFrom: 'MAILER-DAEMON@relay.test', receivedAt: T0 + 1000 },
        recipients: [{ address: 'alice@contoso.test', domain: 'contoso.test' }],
      },
      [gone!],
      'failure',
      [quiet!],
    );
    assert.deepEqual(await queue.owedDsns(10), []);
    const entries = await admin.select({}, { limit: 10 });
    assert.deepEqual(entries.map((e) => e.message.id), [m.id, dsnId]);
    assert.deepEqual(entries[0]!.recipients.map((r) => [r.address, r.dsnStatus]), [['gone@remote.test', 'sent'], ['quiet@remote.test', 'suppressed'], ['fine@remote.test', null]]);
    const dsn = entries[1]!;
    assert.deepEqual([dsn.message.kind, dsn.message.mailFrom, dsn.message.size, dsn.message.headerFrom], ['dsn', '', 999, 'MAILER-DAEMON@relay.test']);
    assert.deepEqual(dsn.recipients.map((r) => [r.address, r.state, r.nextAttemptAt]), [['alice@contoso.test', 'queued', T0 + 1000]]);
  });

  withQueue('delay notices: deferred recipients of old enough messages, once', async ({ queue }) => {
    const old = accepted();
    const young = accepted({ receivedAt: T0 + 60 * MINUTE });
    await queue.commit({ messages: [old, young], decisions: [] });
    const works = await queue.claimDue('node-a', T0 + 60 * MINUTE, MINUTE, 10);
    const outcomes = works.flatMap((w) => w.recipients.map((r) => ({ id: r.id, generation: r.generation, state: 'deferred' as const, reply: '451 4.2.0 busy', attempted: true, nextAttemptAt: T0 + 90 * MINUTE })));
    assert.equal(await queue.record('node-a', outcomes, T0 + 60 * MINUTE), 2);
    const due = await queue.delayNoticesDue(T0 + 30 * MINUTE, 10);
    assert.deepEqual(due.map((w) => w.message.id), [old.id]);
    await queue.enqueueDsn(null, due[0]!.recipients.map((r) => r.id), 'delay', []);
    assert.deepEqual(await queue.delayNoticesDue(T0 + 30 * MINUTE, 10), []);
    assert.deepEqual((await queue.delayNoticesDue(T0 + 60 * MINUTE, 10)).map((w) => w.message.id), [young.id]);
  });

  withQueue('a message is complete when every recipient is final and no DSN is owed; deleting removes it', async ({ queue }) => {
    const done = accepted({}, ['a@remote.test']);
    const owes = accepted({}, [{ address: 'b@remote.test', state: 'failed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsnStatus: 'owed' }]);
    const open = accepted({}, ['c@remote.test']);
    await queue.commit({ messages: [done, owes, open], decisions: [] });
    const works = await queue.claimDue('node-a', T0, MINUTE, 10);
    const { id: a, generation } = works.find((w) => w.message.id === done.id)!.recipients[0]!;
    await queue.record('node-a', [{ id: a, generation, state: 'delivered', reply: '250 ok', attempted: true }], T0);
    assert.deepEqual(await queue.completedMessages(10), [done.id]);
    await queue.deleteMessages([done.id]);
    assert.deepEqual(await queue.completedMessages(10), []);
    assert.deepEqual(await queue.existingMessages([done.id, owes.id, open.id]), new Set([owes.id, open.id]));
  });

  withQueue('what was committed is there after the database is opened again', async (o) => {
    const m = accepted();
    await o.queue.commit({ messages: [m], decisions: [decision({ messageId: m.id })] });
    await o.close();
    const again = await o.reopen();
    try {
      assert.deepEqual(await again.queue.existingMessages([m.id]), new Set([m.id]));
      assert.equal((await again.queue.claimDue('node-a', T0, MINUTE, 10)).length, 1);
      assert.equal((await again.decisions.list({ messageId: m.id })).length, 1);
    } finally {
      await again.close();
    }
  });
}
