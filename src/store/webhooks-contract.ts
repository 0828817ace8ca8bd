/**
 * The WebhookStore contract: subscriptions per tenant, the outbox filled by the trace's own writes
 * (in their transaction, by tenant id and event type, enabled subscriptions only), the worker's
 * leased claims and fenced outcomes, replay and the delivery log. Every adapter runs it against a
 * real database (sqlite/webhook-store.test.ts, postgres/webhook-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDirectory, type StoredTenant } from '../directory/index.js';
import type { TraceEvent } from '../trace/events.js';
import { T0 } from './queue-contract.js';
import { sampleEvent } from './trace-contract.js';
import { fromTraceRow, type TraceRow } from './trace-rows.js';
import type { DirectoryStore, TraceStore, WebhookStore, WebhookSubscriptionRecord } from './ports.js';

export interface OpenedWebhooks {
  directory: DirectoryStore;
  trace: TraceStore;
  webhooks: WebhookStore;
  close(): Promise<void>;
}

const MINUTE = 60_000;

async function tenants(directory: DirectoryStore): Promise<[StoredTenant, StoredTenant]> {
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
  const [a, b] = (await directory.load()).tenants;
  return [a!, b!];
}

function subscription(id: string, tenantId: string, patch: Partial<WebhookSubscriptionRecord> = {}): WebhookSubscriptionRecord {
  return {
    id,
    tenantId,
    url: `https://hooks.example/${id}`,
    eventTypes: ['delivered', 'refused'],
    secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
    previousSecret: null,
    previousSecretUntil: null,
    enabled: true,
    createdAt: T0,
    updatedAt: T0,
    ...patch,
  };
}

/** The trace event an outbox row carries, as the worker reads it. */
function carried(event: string): TraceEvent {
  const { id: _id, ...e } = fromTraceRow(JSON.parse(event) as TraceRow);
  return e as TraceEvent;
}

export function webhookStoreContract(adapter: string, open: () => Promise<OpenedWebhooks>): void {
  const withStore = (name: string, fn: (o: OpenedWebhooks) => Promise<void>): void => {
    test(`${adapter} webhook store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('subscriptions are kept per tenant; an unknown tenant is not-found, a taken id a conflict', async ({ directory, webhooks }) => {
    const [contoso, fabrikam] = await tenants(directory);
    await webhooks.createSubscription(subscription('wh_2', contoso.id));
    await webhooks.createSubscription(subscription('wh_1', fabrikam.id, { eventTypes: ['failed'], enabled: false }));
    assert.deepEqual(await webhooks.getSubscription('wh_2'), subscription('wh_2', contoso.id));
    assert.deepEqual((await webhooks.listSubscriptions()).map((s) => s.id), ['wh_1', 'wh_2']);
    assert.deepEqual((await webhooks.listSubscriptions({ tenantId: fabrikam.id })).map((s) => [s.id, s.enabled, s.eventTypes]), [['wh_1', false, ['failed']]]);
    await assert.rejects(webhooks.createSubscription(subscription('wh_3', '01JH0000000000000000000099')), { code: 'not-found' });
    await assert.rejects(webhooks.createSubscription(subscription('wh_2', contoso.id)), { code: 'conflict' });
    assert.equal(await webhooks.getSubscription('wh_3'), null);
    const rotated = await webhooks.updateSubscription('wh_2', { secret: 'whsec_bmV3', previousSecret: 'whsec_old', previousSecretUntil: T0 + MINUTE, updatedAt: T0 + 1 });
    assert.deepEqual(rotated, { ...subscription('wh_2', contoso.id), secret: 'whsec_bmV3', previousSecret: 'whsec_old', previousSecretUntil: T0 + MINUTE, updatedAt: T0 + 1 });
    assert.deepEqual(await webhooks.getSubscription('wh_2'), rotated);
    assert.equal(await webhooks.updateSubscription('wh_9', { enabled: false, updatedAt: T0 }), null);
    assert.equal(await webhooks.deleteSubscription('wh_1'), true);
    assert.equal(await webhooks.deleteSubscription('wh_1'), false);
  });

  withStore('an appended trace event owes one outbox row per enabled subscription of its tenant to its type, carrying the event', async ({ directory, trace, webhooks }) => {
    const [contoso, fabrikam] = await tenants(directory);
    await webhooks.createSubscription(subscription('wh_a', contoso.id, { eventTypes: ['delivered', 'failed'] }));
    await webhooks.createSubscription(subscription('wh_b', contoso.id, { eventTypes: ['delivered'] }));
    await webhooks.createSubscription(subscription('wh_off', contoso.id, { eventTypes: ['delivered'], enabled: false }));
    await webhooks.createSubscription(subscription('wh_f', fabrikam.id, { eventTypes: ['failed'] }));
    const delivered = sampleEvent('delivered', { tenantId: contoso.id, at: T0 + 1 });
    const failed = sampleEvent('failed', { tenantId: contoso.id, at: T0 + 2 });
    await trace.append([
      delivered, failed, sampleEvent('deferred', { tenantId: contoso.id }), sampleEvent('received', { tenantId: contoso.id }),
      sampleEvent('delivered', { tenantId: null }), sampleEvent('connected', { tenantId: contoso.id }),
    ]);
    const rows = (await webhooks.listOutbox({ limit: 100 })).reverse();
    assert.deepEqual(rows.map((r) => [r.subscriptionId, r.eventType, r.tenantId, r.state, r.attempts]), [
      ['wh_a', 'delivered', contoso.id, 'pending', 0], ['wh_b', 'delivered', contoso.id, 'pending', 0], ['wh_a', 'failed', contoso.id, 'pending', 0],
    ]);
    assert.deepEqual(carried(rows[0]!.event), delivered);
    assert.deepEqual(carried(rows[2]!.event), failed);
    assert.equal(rows[0]!.createdAt, T0 + 1);
    assert.equal(rows[0]!.nextAttemptAt, T0 + 1, 'due at once');
    const stored = (await trace.search({ kind: ['delivered'], tenantId: contoso.id })).events[0]!;
    assert.equal(rows[0]!.traceId, stored.id);
    assert.deepEqual((await webhooks.listOutbox({ subscriptionId: 'wh_b', limit: 10 })).map((r) => r.eventType), ['delivered']);
    assert.deepEqual((await webhooks.listOutbox({ tenantId: fabrikam.id, limit: 10 })), []);
    assert.equal(await webhooks.backlog(), 3);

    // Enabling, disabling and changing the types changes what later events owe, never what is owed.
    await webhooks.updateSubscription('wh_b', { enabled: false, updatedAt: T0 });
    await webhooks.updateSubscription('wh_off', { enabled: true, eventTypes: ['failed'], updatedAt: T0 });
    await trace.append([sampleEvent('delivered', { tenantId: contoso.id }), sampleEvent('failed', { tenantId: contoso.id })]);
    assert.deepEqual((await webhooks.listOutbox({ limit: 100 })).slice(0, 3).map((r) => [r.subscriptionId, r.eventType]).sort(), [
      ['wh_a', 'delivered'], ['wh_a', 'failed'], ['wh_off', 'failed'],
    ]);
    assert.equal(await webhooks.backlog(), 6);
  });

  withStore('legacy-only: a recipient the 2023-11 rules refuse and the legacy rules relay, queued or refused', async ({ directory, trace, webhooks }) => {
    const [contoso] = await tenants(directory);
    await webhooks.createSubscription(subscription('wh_l', contoso.id, { eventTypes: ['legacy-only'] }));
    await webhooks.createSubscription(subscription('wh_r', contoso.id, { eventTypes: ['refused'] }));
    const legacyQueued: TraceEvent = { ...sampleEvent('queued', { tenantId: contoso.id, ruleSet: 'legacy' }), currentVerdict: 'rejected', legacyVerdict: 'relay' };
    const plainQueued: TraceEvent = { ...sampleEvent('queued', { tenantId: contoso.id }), currentVerdict: 'relay', legacyVerdict: 'relay' };
    const refusedLegacy = sampleEvent('refused', { tenantId: contoso.id }); // currentVerdict rejected, legacyVerdict relay
    const refusedBoth = sampleEvent('refused', { tenantId: contoso.id, at: T0 + 5 });
    refusedBoth.recipientDecision = { ...refusedBoth.recipientDecision!, legacyVerdict: 'rejected' };
    await trace.append([legacyQueued, plainQueued, refusedLegacy, refusedBoth, sampleEvent('queued', { tenantId: contoso.id })]);
    const rows = (await webhooks.listOutbox({ limit: 100 })).reverse();
    assert.deepEqual(rows.map((r) => [r.subscriptionId, r.eventType, carried(r.event).kind]).sort(), [
      ['wh_l', 'legacy-only', 'queued'], ['wh_l', 'legacy-only', 'refused'], ['wh_r', 'refused', 'refused'], ['wh_r', 'refused', 'refused'],
    ]);
    assert.deepEqual(carried(rows.find((r) => r.eventType === 'legacy-only' && carried(r.event).kind === 'queued')!.event), legacyQueued);
  });

  withStore('the worker claims due rows with a lease, and an outcome counts only under the lease it was claimed with', async ({ directory, trace, webhooks }) => {
    const [contoso] = await tenants(directory);
    await webhooks.createSubscription(subscription('wh_a', contoso.id, { previousSecret: 'whsec_b2xk', previousSecretUntil: T0 + MINUTE }));
    await trace.append([sampleEvent('delivered', { tenantId: contoso.id, at: T0 }), sampleEvent('refused', { tenantId: contoso.id, at: T0 + 10 * MINUTE })]);
    const [first, second] = [...(await webhooks.listOutbox({ limit: 10 }))].reverse();
    assert.deepEqual(await webhooks.claim({ now: T0 - 1, node: 'n1', leaseMs: MINUTE, limit: 10 }), [], 'nothing due yet');
    const claimed = await webhooks.claim({ now: T0 + 1, node: 'n1', leaseMs: MINUTE, limit: 10 });
    assert.deepEqual(claimed.map((c) => [c.id, c.url, c.secret, c.previousSecret, c.previousSecretUntil]), [
      [first!.id, 'https://hooks.example/wh_a', subscription('', '').secret, 'whsec_b2xk', T0 + MINUTE],
    ]);
    assert.deepEqual(await webhooks.claim({ now: T0 + 2, node: 'n2', leaseMs: MINUTE, limit: 10 }), [], 'leased to n1');
    const c = claimed[0]!;
    const retry = { id: c.id, node: 'n1', generation: c.generation, at: T0 + 3, attempt: 1, outcome: 'retry' as const, statusCode: 500, durationMs: 12, error: 'HTTP 500', nextAttemptAt: T0 + 5 * MINUTE };
    assert.equal(await webhooks.record({ ...retry, node: 'n2' }), false, 'not its lease');
    assert.equal(await webhooks.record(retry), true);
    assert.equal(await webhooks.record(retry), false, 'the lease ended with the outcome');
    assert.deepEqual(await webhooks.claim({ now: T0 + 4 * MINUTE, node: 'n2', leaseMs: MINUTE, limit: 10 }), [], 'the retry is not due');
    // n1 claims again and pauses past its lease; n2 takes the row over; n1's late outcome is refused.
    const again = (await webhooks.claim({ now: T0 + 5 * MINUTE, node: 'n1', leaseMs: MINUTE, limit: 1 }))[0]!;
    assert.equal(again.id, c.id);
    assert.equal(again.attempts, 1);
    const taken = (await webhooks.claim({ now: T0 + 7 * MINUTE, node: 'n2', leaseMs: MINUTE, limit: 1 }))[0]!;
    assert.equal(taken.id, c.id);
    assert.ok(taken.generation > again.generation);
    assert.equal(await webhooks.record({ ...retry, generation: again.generation, attempt: 2, outcome: 'delivered', statusCode: 200 }), false);
    assert.equal(await webhooks.record({ id: c.id, node: 'n2', generation: taken.generation, at: T0 + 7 * MINUTE, attempt: 2, outcome: 'delivered', statusCode: 204, durationMs: 3, error: null }), true);
    const done = (await webhooks.getOutbox(c.id))!;
    assert.deepEqual([done.state, done.attempts, done.lastStatus, done.finishedAt], ['delivered', 2, 204, T0 + 7 * MINUTE]);
    assert.deepEqual((await webhooks.attempts(c.id)).map((a) => [a.attempt, a.outcome, a.statusCode, a.durationMs, a.error, a.subscriptionId, a.eventType]), [
      [1, 'retry', 500, 12, 'HTTP 500', 'wh_a', 'delivered'], [2, 'delivered', 204, 3, null, 'wh_a', 'delivered'],
    ]);
    assert.equal(await webhooks.backlog(), 1);

    // Given up, then replayed: pending again, due now, counted from 0, the log kept.
    const later = (await webhooks.claim({ now: T0 + 11 * MINUTE, node: 'n1', leaseMs: MINUTE, limit: 10 }))[0]!;
    assert.equal(later.id, second!.id);
    assert.equal(await webhooks.record({ id: later.id, node: 'n1', generation: later.generation, at: T0 + 11 * MINUTE, attempt: 1, outcome: 'failed', statusCode: null, durationMs: 1, error: 'ECONNREFUSED' }), true);
    assert.equal((await webhooks.getOutbox(later.id))!.state, 'failed');
    assert.equal(await webhooks.backlog(), 0);
    const replayed = (await webhooks.replay(later.id, T0 + 20 * MINUTE))!;
    assert.deepEqual([replayed.state, replayed.attempts, replayed.nextAttemptAt, replayed.finishedAt], ['pending', 0, T0 + 20 * MINUTE, null]);
    assert.equal(await webhooks.replay(999_999, T0), null);
    assert.equal((await webhooks.attempts(later.id)).length, 1);
    assert.deepEqual((await webhooks.claim({ now: T0 + 20 * MINUTE, node: 'n2', leaseMs: MINUTE, limit: 10 })).map((r) => r.id), [later.id]);
  });

  withStore('nodes claiming at once get disjoint rows; a test event is enqueued directly', async ({ directory, webhooks }) => {
    const [contoso] = await tenants(directory);
    await webhooks.createSubscription(subscription('wh_a', contoso.id));
    for (let i = 0; i < 20; i++) await webhooks.enqueue({ subscriptionId: 'wh_a', tenantId: contoso.id, eventType: 'test', event: `{"n":${i}}`, at: T0 + i });
    await assert.rejects(webhooks.enqueue({ subscriptionId: 'wh_none', tenantId: contoso.id, eventType: 'test', event: '{}', at: T0 }), { code: 'not-found' });
    const claims = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((node) => webhooks.claim({ now: T0 + 100, node, leaseMs: MINUTE, limit: 6 })));
    const ids = claims.flat().map((c) => c.id);
    assert.equal(ids.length, 20);
    assert.equal(new Set(ids).size, 20, 'no row claimed twice');
    assert.deepEqual(claims.flat().map((c) => [c.eventType, c.traceId]).filter(([t, id]) => t !== 'test' || id !== null), []);
  });

  withStore('removing a subscription or its tenant removes its outbox and log', async ({ directory, trace, webhooks }) => {
    const [contoso, fabrikam] = await tenants(directory);
    await webhooks.createSubscription(subscription('wh_a', contoso.id));
    await webhooks.createSubscription(subscription('wh_f', fabrikam.id));
    await trace.append([sampleEvent('delivered', { tenantId: contoso.id }), sampleEvent('delivered', { tenantId: fabrikam.id })]);
    const [c] = await webhooks.claim({ now: T0, node: 'n1', leaseMs: MINUTE, limit: 1 });
    await webhooks.record({ id: c!.id, node: 'n1', generation: c!.generation, at: T0, attempt: 1, outcome: 'delivered', statusCode: 200, durationMs: 1, error: null });
    assert.equal(await webhooks.deleteSubscription(c!.subscriptionId), true);
    assert.equal(await webhooks.getOutbox(c!.id), null);
    assert.deepEqual(await webhooks.attempts(c!.id), []);
    await directory.replace(validateDirectory({ tenants: [{ name: c!.subscriptionId === 'wh_a' ? 'contoso' : 'fabrikam' }] }));
    assert.deepEqual(await webhooks.listSubscriptions(), []);
    assert.deepEqual(await webhooks.listOutbox({ limit: 10 }), []);
  });
}

export function webhookTenantEventContract(adapter: string, open: () => Promise<OpenedWebhooks>): void {
  test(`${adapter} webhook store: an event that is no trace event is owed once per subscription and dedupe key`, async () => {
    const { directory, webhooks, close } = await open();
    try {
      const [contoso, fabrikam] = await tenants(directory);
      await webhooks.createSubscription(subscription('wh_a', contoso.id, { eventTypes: ['connector-health'] }));
      await webhooks.createSubscription(subscription('wh_b', contoso.id, { eventTypes: ['connector-health', 'delivered'] }));
      await webhooks.createSubscription(subscription('wh_c', contoso.id, { eventTypes: ['delivered'] }));
      await webhooks.createSubscription(subscription('wh_off', contoso.id, { eventTypes: ['connector-health'], enabled: false }));
      const event = { tenantId: contoso.id, eventType: 'connector-health', event: '{"code":"silent"}', at: T0, dedupeKey: 'silent|apps||2026-03-02' };
      assert.equal(await webhooks.enqueueForTenant(event), 2);
      assert.equal(await webhooks.enqueueForTenant({ ...event, at: T0 + MINUTE }), 0, 'the same key again: nothing');
      assert.equal(await webhooks.enqueueForTenant({ ...event, dedupeKey: 'silent|apps||2026-03-03' }), 2);
      assert.equal(await webhooks.enqueueForTenant({ ...event, tenantId: fabrikam.id }), 0, 'no subscription of fabrikam');
      const rows = await webhooks.listOutbox({ limit: 10 });
      assert.deepEqual(rows.map((r) => [r.eventType, r.traceId, r.event, r.createdAt, r.state]), Array(4).fill(['connector-health', null, '{"code":"silent"}', T0, 'pending']));
      assert.deepEqual(rows.map((r) => r.subscriptionId).sort(), ['wh_a', 'wh_a', 'wh_b', 'wh_b']);
    } finally {
      await close();
    }
  });
}
