/**
 * The TraceStore contract: events appended on their own or with the state change they describe
 * (the accept commit, a delivery outcome, a DSN, an operator's action), searched by every field an
 * Exchange Online admin searches by with a keyset cursor, told as one message's or session's story,
 * and pruned by age per kind. Every adapter runs it against a real database
 * (sqlite/queue-store.test.ts, postgres/queue-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyContext, traceEventKinds, type TraceContext, type TraceEvent, type TraceEventKind, type TraceEventOf } from '../trace/events.js';
import { accepted, T0, type OpenedQueue } from './queue-contract.js';
import type { StoredTraceEvent, TraceRetention } from './ports.js';

const CONTOSO = '01JH0000000000000000000001';
const MINUTE = 60_000;
const DAY = 86_400_000;

const context = (over: Partial<TraceContext> = {}): TraceContext => ({
  ...emptyContext(T0),
  tenantId: CONTOSO, tenant: 'contoso', sessionId: 'sess-1', transaction: 1, clientIp: '192.0.2.7', connector: 'apps', sender: 'alice@contoso.test',
  ruleSet: '2023-11',
  ...over,
});

/** One event of every kind, as the write points make them (a test fixture; the search CLI's tests may use it too). */
export function sampleEvent<K extends TraceEventKind>(kind: K, over: Partial<TraceContext> = {}): TraceEventOf<K> {
  const at = over.at ?? T0;
  const c = (status: TraceContext['status'], reason: string | null, more: Partial<TraceContext> = {}): TraceContext => context({ status, reason, ...more, ...over, at });
  const steps = [{ id: 'A1', question: 'Does a trusted, valid client certificate match an enabled OnPremises connector?', answer: 'no' as const, detail: 'No client certificate was presented. ü' }];
  const events: { [P in TraceEventKind]: TraceEventOf<P> } = {
    connected: {
      ...c(null, null, { transaction: null, sender: null }), kind: 'connected', listener: 'smtp', peerIp: '10.0.0.1', viaProxy: true, helo: 'app.contoso.test',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      certificate: {
        subject: 'CN=mail.contoso.test', sans: ['mail.contoso.test', 'smtp.contoso.test'], issuer: 'CN=Test CA', fingerprint: 'AB:CD',
        validFrom: '2026-01-01T00:00:00.000Z', validTo: '2027-01-01T00:00:00.000Z', trusted: false, untrustedReason: 'SELF_SIGNED_CERT_IN_CHAIN',
      },
    },
    refused: {
      ...c('Refused', 'nobody', { recipient: 'bob@fabrikam.test' }), status: 'Refused', kind: 'refused', stage: 'rcpt',
      reply: '550 5.7.64 TenantAttribution; Relay Access Denied', detail: 'certificate name mail.contoso.test is not an accepted domain of contoso: condition 1a not met',
      decision: {
        tenant: 'contoso', tenantId: CONTOSO, connector: 'apps', attribution: 'ip', ruleSet: '2023-11',
        certificate: { presented: false, names: [], reason: null }, tiedTenants: [], steps, outcome: 'OUT-F', warnings: [],
        remedies: [{ rank: 1, text: 'Add the certificate name as an accepted domain.' }],
      },
      recipientDecision: {
        address: 'bob@fabrikam.test', domain: 'fabrikam.test', verdict: 'rejected', reply: { code: 550, enhanced: '5.7.64', text: 'TenantAttribution; Relay Access Denied' },
        rule: 'nobody', tenant: null, tenantId: null, connector: null, partnerConnector: null, attribution: 'ip', ruleSet: '2023-11', currentVerdict: 'rejected',
        legacyVerdict: 'relay', directionality: 'Originating', conditions: { connector: true, certificateNameAccepted: false, envelopeSenderAccepted: false, headerFromAccepted: null },
        explanation: 'Not allowed to relay.',
      },
      suppressedBefore: 0,
    },
    received: {
      ...c('Pending', null, { queueId: 'Q1', messageIdHeader: '<1@contoso.test>', certName: 'mail.contoso.test' }), status: 'Pending', kind: 'received',
      size: 1234, subject: 'hello', headerFrom: 'alice@contoso.test', recipients: 2, refusedAtData: 0, directionality: 'Originating', attribution: 'ip',
    },
    queued: {
      ...c('Pending', 'relay', { queueId: 'Q1', recipient: 'bob@fabrikam.test', messageIdHeader: '<1@contoso.test>' }), status: 'Pending', kind: 'queued',
      verdict: 'relay', rule: 'relay', directionality: 'Originating', explanation: 'Relayed for contoso.',
    },
    attempt: {
      ...c('Deferred', '4.7.1', { queueId: 'Q1', recipient: 'bob@fabrikam.test', sessionId: null, transaction: null }), status: 'Deferred', kind: 'attempt',
      result: 'deferred', nextHop: 'fabrikam.test', mxHost: 'mx.fabrikam.test', mxIp: '127.0.0.1', tls: null, reply: '451 4.7.1 try later', remote: true, durationMs: 12,
    },
    deferred: {
      ...c('Deferred', '4.7.1', { queueId: 'Q1', recipient: 'bob@fabrikam.test', sessionId: null, transaction: null }), status: 'Deferred', kind: 'deferred',
      reply: '451 4.7.1 try later', nextAttemptAt: T0 + 5 * MINUTE, attempts: 1,
    },
    delivered: {
      ...c('Delivered', null, { queueId: 'Q1', recipient: 'bob@fabrikam.test', sessionId: null, transaction: null }), status: 'Delivered', kind: 'delivered',
      reply: '250 2.0.0 Ok', remoteMta: 'mx.fabrikam.test', attempts: 2,
    },
    failed: {
      ...c('Failed', '5.1.1', { queueId: 'Q1', recipient: 'carol@fabrikam.test', sessionId: null, transaction: null }), status: 'Failed', kind: 'failed',
      reply: '550 5.1.1 no such user', remoteMta: 'mx.fabrikam.test', attempts: 1, dsn: 'owed',
    },
    expired: {
      ...c('Failed', '4.4.7', { queueId: 'Q1', recipient: 'dave@fabrikam.test', sessionId: null, transaction: null }), status: 'Failed', kind: 'expired',
      reply: '451 4.4.7 delivery time expired', attempts: 9, dsn: 'suppressed',
    },
    'dsn-queued': {
      ...c('Failed', '5.1.1', { queueId: 'Q1', recipient: 'carol@fabrikam.test', sessionId: null, transaction: null }), status: 'Failed', kind: 'dsn-queued',
      dsnKind: 'failure', dsnQueueId: 'Q2', notified: 'alice@contoso.test',
    },
    held: { ...c('Pending', 'operator', { queueId: 'Q1', recipient: 'bob@fabrikam.test', sessionId: null, transaction: null }), status: 'Pending', kind: 'held', by: 'cli:root' },
    released: { ...c('Pending', 'operator', { queueId: 'Q1', recipient: 'bob@fabrikam.test', sessionId: null, transaction: null }), status: 'Pending', kind: 'released', by: 'cli:root' },
    'operator-bounced': {
      ...c('Failed', 'operator', { queueId: 'Q1', recipient: 'bob@fabrikam.test', sessionId: null, transaction: null }), status: 'Failed', kind: 'operator-bounced',
      by: 'api:tok1', reply: '550 5.3.0 bounced by the operator', dsn: 'owed',
    },
    deleted: { ...c('Failed', 'operator', { queueId: 'Q1', sessionId: null, transaction: null }), status: 'Failed', kind: 'deleted', by: 'cli:root', unfinished: 1 },
    'srs-returned': {
      ...c('Expanded', 'srs-return', { queueId: 'Q3', sender: '', recipient: 'alice@contoso.test' }), status: 'Expanded', kind: 'srs-returned',
      srsAddress: 'SRS0=abcd=XY=contoso.test=alice@srs.relay.test',
    },
  };
  return events[kind];
}

const strip = (events: readonly StoredTraceEvent[]): TraceEvent[] => events.map(({ id: _id, ...e }) => e as TraceEvent);
const kinds = (events: readonly StoredTraceEvent[]): string[] => events.map((e) => e.kind);

const RETAIN_ALL: TraceRetention = Object.fromEntries(traceEventKinds.map((k) => [k, 30 * DAY])) as Record<TraceEventKind, number>;

export function traceStoreContract(adapter: string, open: () => Promise<OpenedQueue>): void {
  const withTrace = (name: string, fn: (o: OpenedQueue) => Promise<void>): void => {
    test(`${adapter} trace store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withTrace('an event of every kind reads back whole, newest first, each with an id', async ({ trace }) => {
    const all = traceEventKinds.map((k, i) => sampleEvent(k, { at: T0 + i }));
    await trace.append(all);
    const page = await trace.search({}, { limit: 100 });
    assert.deepEqual(strip(page.events), [...all].reverse());
    assert.equal(page.next, null);
    assert.equal(new Set(page.events.map((e) => e.id)).size, all.length);
    await trace.append([]);
    assert.equal((await trace.search({})).events.length, all.length);
  });

  withTrace('every search field narrows: tenant, addresses and domains (any case), Message-ID, queue id, IP, connector, certificate, status, kind, reason, rule set, time', async ({ trace }) => {
    await trace.append([
      sampleEvent('received', { at: T0, queueId: 'QA', sender: 'Alice@Contoso.test', messageIdHeader: '<a@contoso.test>', certName: 'Mail.Contoso.test' }),
      sampleEvent('queued', { at: T0 + 1, queueId: 'QA', recipient: 'Bob@Fabrikam.TEST', messageIdHeader: '<a@contoso.test>' }),
      sampleEvent('refused', { at: T0 + 2, tenantId: null, tenant: null, connector: null, clientIp: '198.51.100.9', recipient: 'x@northwind.test', ruleSet: 'legacy' }),
      sampleEvent('delivered', { at: T0 + 3, queueId: 'QA', recipient: 'bob@fabrikam.test', connector: 'Apps' }),
      sampleEvent('failed', { at: T0 + 4, queueId: 'QB', recipient: 'carol@fabrikam.test', tenantId: 'OTHER', sender: 'eve@other.test' }),
    ]);
    const at = async (filter: Parameters<typeof trace.search>[0]): Promise<number[]> => (await trace.search(filter)).events.map((e) => e.at - T0);
    assert.deepEqual(await at({ tenantId: CONTOSO }), [3, 1, 0]);
    assert.deepEqual(await at({ sender: 'alice@contoso.TEST' }), [3, 2, 1, 0]);
    assert.deepEqual(await at({ senderDomain: 'OTHER.test' }), [4]);
    assert.deepEqual(await at({ recipient: 'BOB@fabrikam.test' }), [3, 1]);
    assert.deepEqual(await at({ recipientDomain: 'fabrikam.test' }), [4, 3, 1]);
    assert.deepEqual(await at({ messageIdHeader: '<a@contoso.test>' }), [1, 0]);
    assert.deepEqual(await at({ queueId: 'QA' }), [3, 1, 0]);
    assert.deepEqual(await at({ sessionId: 'sess-1' }), [2, 1, 0]);
    assert.deepEqual(await at({ clientIp: '198.51.100.9' }), [2]);
    assert.deepEqual(await at({ connector: 'apps' }), [4, 3, 1, 0]);
    assert.deepEqual(await at({ certName: 'mail.contoso.test' }), [0]);
    assert.deepEqual(await at({ status: ['Delivered', 'Failed'] }), [4, 3]);
    assert.deepEqual(await at({ status: [] }), []);
    assert.deepEqual(await at({ kind: ['refused'] }), [2]);
    assert.deepEqual(await at({ reason: 'nobody' }), [2]);
    assert.deepEqual(await at({ ruleSet: 'legacy' }), [2]);
    assert.deepEqual(await at({ from: T0 + 1, to: T0 + 3 }), [2, 1]);
    assert.deepEqual(await at({ recipientDomain: 'fabrikam.test', status: ['Pending'], from: T0 }), [1]);
  });

  withTrace('pages by cursor: none repeated, none skipped, while events are written between pages', async ({ trace }) => {
    await trace.append(Array.from({ length: 25 }, (_, i) => sampleEvent('queued', { at: T0 + Math.floor(i / 3), recipient: `u${i}@fabrikam.test` })));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const result: Awaited<ReturnType<typeof trace.search>> = await trace.search({ kind: ['queued'] }, { cursor, limit: 4 });
      seen.push(...result.events.map((e) => e.recipient!));
      // Writes between pages: newer ones, and ones at an instant already paged past.
      await trace.append([sampleEvent('queued', { at: T0 + 100 + page, recipient: `new${page}@fabrikam.test` }), sampleEvent('delivered', { at: T0 + 1 })]);
      cursor = result.next;
      if (cursor === null) break;
    }
    assert.equal(cursor, null);
    const original = seen.filter((r) => r.startsWith('u'));
    assert.equal(new Set(seen).size, seen.length, 'no event twice');
    assert.deepEqual([...original].sort(), Array.from({ length: 25 }, (_, i) => `u${i}@fabrikam.test`).sort(), 'every event that existed at the first page');
  });

  withTrace('a bad cursor or page size is refused with the field named', async ({ trace }) => {
    await assert.rejects(trace.search({}, { cursor: 'abc' }), (err: Error & { code?: string; details?: { field?: string } }) => err.code === 'invalid' && err.details?.field === 'cursor');
    await assert.rejects(trace.search({}, { limit: 0 }), (err: Error & { code?: string; details?: { field?: string } }) => err.code === 'invalid' && err.details?.field === 'limit');
  });

  withTrace("a story: a queue id's events, its session's connection and its transaction's refusals, its DSN's delivery; a session's whole", async ({ trace }) => {
    await trace.append([
      sampleEvent('connected', { at: T0, sessionId: 'S', transaction: null }),
      sampleEvent('refused', { at: T0 + 1, sessionId: 'S', transaction: 1, recipient: 'no@fabrikam.test' }),
      sampleEvent('received', { at: T0 + 2, sessionId: 'S', transaction: 1, queueId: 'Q1' }),
      sampleEvent('queued', { at: T0 + 2, sessionId: 'S', transaction: 1, queueId: 'Q1' }),
      sampleEvent('refused', { at: T0 + 3, sessionId: 'S', transaction: 2, recipient: 'other@fabrikam.test' }),
      sampleEvent('failed', { at: T0 + 4, queueId: 'Q1' }),
      sampleEvent('dsn-queued', { at: T0 + 5, queueId: 'Q1' }),
      sampleEvent('delivered', { at: T0 + 6, queueId: 'Q2', recipient: 'alice@contoso.test' }),
      sampleEvent('delivered', { at: T0 + 7, queueId: 'Q9', sessionId: 'T' }),
    ]);
    const story = async (id: string): Promise<string[]> => (await trace.story(id)).map((e) => `${e.at - T0}:${e.kind}`);
    assert.deepEqual(await story('Q1'), ['0:connected', '1:refused', '2:received', '2:queued', '4:failed', '5:dsn-queued', '6:delivered']);
    assert.deepEqual(await story('S'), ['0:connected', '1:refused', '2:received', '2:queued', '3:refused', '4:failed', '5:dsn-queued', '6:delivered']);
    assert.deepEqual(await story('nothing'), []);
  });

  withTrace('events of an accept commit are all or nothing with its messages', async ({ queue, trace }) => {
    const first = accepted();
    await queue.commit({ messages: [first], decisions: [], events: [sampleEvent('received', { queueId: first.id })] });
    const fresh = accepted();
    await assert.rejects(
      queue.commit({ messages: [fresh, { ...accepted(), id: first.id }], decisions: [], events: [sampleEvent('received', { queueId: fresh.id }), sampleEvent('refused')] }),
    );
    assert.deepEqual((await trace.search({})).events.map((e) => e.queueId), [first.id]);
    await queue.commit({ messages: [], decisions: [], events: [sampleEvent('refused', { at: T0 + 1 })] });
    assert.deepEqual(kinds((await trace.search({})).events), ['refused', 'received']);
  });

  withTrace("a delivery outcome's events are written only if it applied, with the message's session context, and outlive the message", async ({ queue, trace }) => {
    const m = accepted({ connector: 'apps', clientIp: '192.0.2.7', messageIdHeader: '<m@contoso.test>' }, ['a@remote.test', 'b@remote.test']);
    await queue.commit({ messages: [m], decisions: [], events: [sampleEvent('received', { queueId: m.id, certName: 'mail.contoso.test', at: m.receivedAt })] });
    const [work] = await queue.claimDue('node-a', T0, 10 * MINUTE, 10);
    const [a, b] = work!.recipients;
    const bare = { connector: null, clientIp: null, messageIdHeader: null, certName: null, sessionId: null, transaction: null, queueId: m.id };
    const delivered = { ...sampleEvent('delivered', { ...bare, recipient: a!.address, at: T0 + 1 }) };
    const lost = { ...sampleEvent('failed', { ...bare, recipient: b!.address, at: T0 + 1 }) };
    assert.equal(await queue.record('node-a', [{ id: a!.id, generation: a!.generation, state: 'delivered', reply: '250 ok', attempted: true, events: [delivered] }], T0 + 1), 1);
    // Another owner's outcome for b does not apply: neither do its events.
    assert.equal(await queue.record('node-b', [{ id: b!.id, generation: b!.generation, state: 'failed', reply: '550 no', attempted: true, events: [lost] }], T0 + 1), 0);
    const [stored] = (await trace.search({ kind: ['delivered', 'failed'] })).events;
    assert.deepEqual(strip([stored!]), [{ ...delivered, connector: 'apps', clientIp: '192.0.2.7', messageIdHeader: '<m@contoso.test>', certName: 'mail.contoso.test' }]);
    assert.equal((await trace.search({ kind: ['failed'] })).events.length, 0);
    await queue.record('node-a', [{ id: b!.id, generation: b!.generation, state: 'delivered', reply: '250 ok', attempted: true }], T0 + 2);
    await queue.deleteMessages(await queue.completedMessages(10));
    assert.deepEqual(kinds(await trace.story(m.id)), ['received', 'delivered'], 'the history outlives the message');
  });

  withTrace('a DSN is queued with its trace in one transaction', async ({ queue, trace }) => {
    const m = accepted({}, [{ address: 'gone@remote.test', state: 'failed', lastReply: '550 5.1.1 no such user', dsnStatus: 'owed' }]);
    await queue.commit({ messages: [m], decisions: [] });
    const [owed] = await queue.owedDsns(10);
    const dsnId = accepted({ receivedAt: T0 + 1000 }).id;
    const event = sampleEvent('dsn-queued', { queueId: m.id, recipient: 'gone@remote.test', connector: null, clientIp: null });
    await queue.enqueueDsn(
      { message: { ...owed!.message, id: dsnId, kind: 'dsn', mailFrom: '', receivedAt: T0 + 1000 }, recipients: [{ address: 'alice@contoso.test', domain: 'contoso.test' }] },
      owed!.recipients.map((r) => r.id), 'failure', [], [{ ...event, dsnQueueId: dsnId }],
    );
    const [stored] = (await trace.search({ kind: ['dsn-queued'] })).events;
    assert.equal(stored?.kind === 'dsn-queued' ? stored.dsnQueueId : null, dsnId);
    assert.equal(stored?.connector, 'apps', 'context taken from the queued message');
  });

  withTrace("an operator's transition writes the events of the recipients that moved; a deletion those of messages that were there", async ({ queue, admin, trace }) => {
    const m = accepted({}, ['a@remote.test', 'b@remote.test']);
    await queue.commit({ messages: [m], decisions: [] });
    const [entry] = await admin.select({ ids: [m.id] }, { limit: 1 });
    const [a, b] = entry!.recipients;
    await queue.claimDue('node-a', T0, MINUTE, 1); // a is in flight: a hold does not move it
    const held = (address: string) => [sampleEvent('held', { queueId: m.id, recipient: address, connector: null, sessionId: null })];
    const moved = await admin.transition({ ids: [a!.id, b!.id], from: ['queued', 'deferred'], to: 'held', events: new Map([[a!.id, held(a!.address)], [b!.id, held(b!.address)]]) }, T0 + 1);
    assert.equal(moved, 1);
    assert.deepEqual((await trace.search({ kind: ['held'] })).events.map((e) => [e.recipient, e.connector]), [[b!.address, 'apps']]);
    const gone = accepted({ receivedAt: T0 + 5 }).id;
    const deleted = new Map([
      [m.id, [sampleEvent('deleted', { queueId: m.id, connector: null })]],
      [gone, [sampleEvent('deleted', { queueId: gone })]],
    ]);
    assert.equal(await admin.deleteMessages([m.id, gone], deleted), 1);
    assert.deepEqual((await trace.search({ kind: ['deleted'] })).events.map((e) => [e.queueId, e.connector]), [[m.id, 'apps']]);
  });

  withTrace('prune removes exactly what is past its kind retention, at most a batch a call, and says when more is due', async ({ trace }) => {
    const now = T0 + 40 * DAY;
    const events: TraceEvent[] = [];
    for (let day = 0; day <= 40; day += 5) {
      for (const kind of ['refused', 'delivered', 'connected'] as const) events.push(sampleEvent(kind, { at: T0 + day * DAY + 1 }));
    }
    await trace.append(events);
    const retention: TraceRetention = { ...RETAIN_ALL, refused: 7 * DAY, connected: 20 * DAY };
    const dueBefore = (kind: TraceEventKind) => now - retention[kind];
    const expectedLeft = events.filter((e) => e.at >= dueBefore(e.kind)).length;
    let removed = 0;
    let calls = 0;
    for (; calls < 50; calls++) {
      const r = await trace.prune({ now, retention, batchSize: 4 });
      assert.ok(r.removed <= 4 || calls === 0, `a call removes at most the batch (besides whole partitions): ${r.removed}`);
      removed += r.removed;
      if (!r.more) break;
    }
    assert.ok(calls > 1, 'the work went in several batches');
    const left: StoredTraceEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof trace.search>> = await trace.search({}, { cursor, limit: 1000 });
      left.push(...page.events);
      cursor = page.next;
    } while (cursor);
    assert.equal(removed, events.length - expectedLeft);
    assert.deepEqual(
      left.map((e) => `${e.kind}@${Math.floor((e.at - T0) / DAY)}`).sort(),
      events.filter((e) => e.at >= dueBefore(e.kind)).map((e) => `${e.kind}@${Math.floor((e.at - T0) / DAY)}`).sort(),
    );
    assert.deepEqual(await trace.prune({ now, retention, batchSize: 4 }), { removed: 0, more: false });
  });
}
