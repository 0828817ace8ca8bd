import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStores, type SqliteStores } from '../app/stores.js';
import { ManualClock } from '../core/clock.js';
import { validateDirectory } from '../directory/index.js';
import { sampleEvent } from '../store/trace-contract.js';
import { WebhookReceiver } from '../../test/support/webhook-receiver.js';
import { WebhookService } from './webhook-service.js';
import { WebhookWorker } from './worker.js';
import { retryDelay, defaultWebhookRetrySchedule } from './retry-schedule.js';
import { verifySignature } from './signature.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MINUTE = 60_000;
const schedule = { delays: [MINUTE, 5 * MINUTE, 30 * MINUTE], jitter: 0 };

interface Rig {
  stores: SqliteStores;
  clock: ManualClock;
  service: WebhookService;
  worker: WebhookWorker;
  receiver: WebhookReceiver;
  url: string;
  tenantId: string;
}

async function rig(fn: (r: Rig) => Promise<void>, options: { allowPrivateTargets?: boolean; resolve?: (host: string) => Promise<string[]> } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-webhook-worker-'));
  const stores = openSqliteStores({ dataDir: dir });
  const receiver = new WebhookReceiver();
  try {
    await stores.directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
    const tenantId = (await stores.directory.load()).tenants[0]!.id;
    const clock = new ManualClock(new Date(T0));
    const allowPrivateTargets = options.allowPrivateTargets ?? true;
    const service = new WebhookService({ directory: stores.directory, webhooks: stores.webhooks, clock, allowPrivateTargets, ...(options.resolve ? { resolve: options.resolve } : {}) });
    const worker = new WebhookWorker({
      store: stores.webhooks, clock, node: 'n1', allowPrivateTargets, schedule, random: () => 0.5, timeoutMs: 5_000, ...(options.resolve ? { resolve: options.resolve } : {}),
    });
    await fn({ stores, clock, service, worker, receiver, url: await receiver.start(), tenantId });
  } finally {
    await receiver.stop();
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a receiver that fails twice gets the signed event exactly once, after the retries the schedule spaces', () =>
  rig(async ({ stores, clock, service, worker, receiver, url, tenantId }) => {
    const { subscription, secret } = await service.subscribe('Contoso', { url, events: ['delivered'] });
    receiver.secrets = [secret];
    receiver.answer(500, 500);
    const delivered = sampleEvent('delivered', { tenantId, tenant: 'contoso', at: T0 });
    await stores.trace.append([delivered, sampleEvent('failed', { tenantId, at: T0 })]);

    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 1, failed: 0 });
    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 0, failed: 0 }, 'the retry waits for its delay');
    clock.advance(MINUTE - 1);
    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 0, failed: 0 });
    clock.advance(1);
    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 1, failed: 0 });
    clock.advance(5 * MINUTE);
    assert.deepEqual(await worker.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    clock.advance(60 * MINUTE);
    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 0, failed: 0 }, 'nothing left');

    assert.deepEqual(receiver.requests.map((r) => [r.status, r.verifiedBy.length]), [[500, 1], [500, 1], [204, 1]]);
    assert.equal(new Set(receiver.requests.map((r) => r.id)).size, 1, 'every attempt has the same webhook-id');
    assert.deepEqual(receiver.requests.map((r) => Number(r.timestamp)), [T0 / 1000, (T0 + MINUTE) / 1000, (T0 + 6 * MINUTE) / 1000]);
    assert.match(receiver.requests[0]!.signature, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.equal(receiver.accepted.size, 1);
    const body = [...receiver.accepted.values()][0] as { type: string; timestamp: string; data: Record<string, unknown> };
    assert.equal(body.type, 'delivered');
    assert.equal(body.timestamp, new Date(T0).toISOString());
    const { id: traceId, ...event } = body.data;
    assert.equal(typeof traceId, 'number');
    assert.deepEqual(event, JSON.parse(JSON.stringify(delivered)));

    const [log] = await service.deliveries(subscription.id, { tenant: 'contoso' });
    assert.deepEqual([log!.state, log!.attempts, log!.lastStatus, log!.type], ['delivered', 3, 204, 'delivered']);
    assert.deepEqual(log!.log.map((a) => [a.attempt, a.outcome, a.statusCode, a.error]), [[1, 'retry', 500, 'HTTP 500'], [2, 'retry', 500, 'HTTP 500'], [3, 'delivered', 204, null]]);
    assert.ok(log!.log.every((a) => a.durationMs >= 0));
  }));

test('after the last retry the delivery is given up and marked failed; replay sends it again under the same webhook-id', () =>
  rig(async ({ stores, clock, service, worker, receiver, url, tenantId }) => {
    const { subscription, secret } = await service.subscribe('contoso', { url, events: ['refused'] });
    receiver.secrets = [secret];
    receiver.answer(503, 503, 503, 503);
    await stores.trace.append([sampleEvent('refused', { tenantId, at: T0 })]);
    for (const wait of [0, MINUTE, 5 * MINUTE, 30 * MINUTE]) {
      clock.advance(wait);
      await worker.runOnce();
    }
    const [given] = await service.deliveries(subscription.id);
    assert.deepEqual([given!.state, given!.attempts, given!.nextAttemptAt], ['failed', 4, null]);
    assert.deepEqual(given!.log.map((a) => a.outcome), ['retry', 'retry', 'retry', 'failed']);
    assert.equal(receiver.accepted.size, 0);
    clock.advance(24 * 60 * MINUTE);
    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 0, failed: 0 });

    await assert.rejects(service.replay(given!.id, { tenant: 'fabrikam' }), { code: 'not-found', message: `webhook delivery ${given!.id} does not exist` });
    const replayed = await service.replay(given!.id, { tenant: 'contoso' });
    assert.deepEqual([replayed.state, replayed.attempts], ['pending', 0]);
    assert.deepEqual(await worker.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    assert.equal(receiver.requests.length, 5);
    assert.equal(new Set(receiver.requests.map((r) => r.id)).size, 1);
    assert.equal(receiver.accepted.size, 1);
    const [after] = await service.deliveries(subscription.id);
    assert.deepEqual(after!.log.map((a) => a.outcome), ['retry', 'retry', 'retry', 'failed', 'delivered']);
  }));

test('rotation: during the grace period both secrets sign and either verifies; after it only the new one', () =>
  rig(async ({ stores, clock, service, worker, receiver, url, tenantId }) => {
    const { subscription, secret: old } = await service.subscribe('contoso', { url, events: ['delivered'] });
    const rotated = await service.rotate(subscription.id, { graceMs: 60 * MINUTE });
    assert.notEqual(rotated.secret, old);
    assert.match(rotated.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(rotated.subscription.previousSecretValidUntil, new Date(T0 + 60 * MINUTE).toISOString());
    receiver.secrets = [old, rotated.secret];
    await stores.trace.append([sampleEvent('delivered', { tenantId, at: T0 })]);
    await worker.runOnce();
    const during = receiver.requests[0]!;
    assert.equal(during.signature.split(' ').length, 2);
    assert.deepEqual(during.verifiedBy, [old, rotated.secret]);
    assert.ok(verifySignature(old, during, during.body) && verifySignature(rotated.secret, during, during.body));

    clock.advance(60 * MINUTE);
    await stores.trace.append([sampleEvent('delivered', { tenantId, at: T0 + 60 * MINUTE })]);
    await worker.runOnce();
    const after = receiver.requests[1]!;
    assert.equal(after.signature.split(' ').length, 1);
    assert.deepEqual(after.verifiedBy, [rotated.secret]);
    assert.equal((await service.show(subscription.id)).previousSecretValidUntil, null);
    await assert.rejects(service.rotate(subscription.id, { graceMs: 8 * 24 * 60 * MINUTE }), { code: 'invalid', message: 'a rotation grace period is between 0 and 7 days' });
  }));

test('the test event reaches the receiver signed; a disabled subscription owes nothing for events meanwhile', () =>
  rig(async ({ stores, service, worker, receiver, url, tenantId }) => {
    const { subscription, secret } = await service.subscribe('contoso', { url, events: ['delivered'] });
    receiver.secrets = [secret];
    await service.setEnabled(subscription.id, false);
    await stores.trace.append([sampleEvent('delivered', { tenantId, at: T0 })]);
    const queued = await service.test(subscription.id, { tenant: 'CONTOSO' });
    assert.equal(queued.type, 'test');
    assert.deepEqual(await worker.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    const body = JSON.parse(receiver.requests[0]!.body) as { type: string; data: { subscription: string; tenant: string } };
    assert.deepEqual([body.type, body.data.subscription, body.data.tenant], ['test', subscription.id, 'contoso']);
    assert.equal(receiver.requests.length, 1);
  }));

test('a target in a private range is refused at subscribe time, and at connect time after DNS resolution (rebinding)', async () => {
  let answer = ['93.184.216.34'];
  await rig(async ({ service, stores, worker, receiver, url, tenantId }) => {
    const port = new URL(url).port;
    const refusals: Array<[string, string]> = [
      [`http://127.0.0.1:${port}/hooks`, 'webhook target 127.0.0.1 is an address in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)'],
      ['https://[::ffff:10.1.2.3]/x', 'webhook target ::ffff:a01:203 is an address in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)'],
      ['https://169.254.169.254/latest/meta-data', 'webhook target 169.254.169.254 is an address in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)'],
      ['https://[fe80::1]/x', 'webhook target fe80::1 is an address in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)'],
    ];
    for (const [target, message] of refusals) {
      await assert.rejects(service.subscribe('contoso', { url: target, events: ['delivered'] }), { code: 'invalid', message, details: { field: 'url', host: new URL(target).hostname.replace(/^\[|\]$/g, ''), address: new URL(target).hostname.replace(/^\[|\]$/g, '') } });
    }
    answer = ['203.0.114.5', '192.168.1.20'];
    await assert.rejects(service.subscribe('contoso', { url: 'https://hooks.internal.test/x', events: ['delivered'] }), {
      code: 'invalid', message: 'webhook target hooks.internal.test is at 192.168.1.20 in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)',
    });
    await assert.rejects(service.subscribe('contoso', { url: 'ftp://hooks.example/x', events: ['delivered'] }), { code: 'invalid', message: 'a webhook URL is http:// or https://, not ftp://' });
    await assert.rejects(service.subscribe('contoso', { url: 'https://u:p@hooks.example/x', events: ['delivered'] }), { code: 'invalid', message: 'a webhook URL carries no user name or password: sign with the secret instead' });
    await assert.rejects(service.subscribe('contoso', { url: 'https://hooks.example/x', events: ['queued'] }), {
      code: 'invalid', message: 'unknown event type "queued" (expected refused, delivered, failed, deferred, expired, legacy-only, connector-health)', details: { field: 'events' },
    });
    assert.deepEqual(await service.list(), [], 'nothing was subscribed');

    // The name resolves to a public address when subscribing, to the receiver's loopback address when connecting.
    answer = ['93.184.216.34'];
    const { subscription } = await service.subscribe('contoso', { url: `http://rebind.example:${port}/hooks`, events: ['delivered'] });
    answer = ['127.0.0.1'];
    await stores.trace.append([sampleEvent('delivered', { tenantId, at: T0 })]);
    assert.deepEqual(await worker.runOnce(), { delivered: 0, retried: 1, failed: 0 });
    const [d] = await service.deliveries(subscription.id);
    assert.deepEqual([d!.lastStatus, d!.lastError], [null, 'webhook target rebind.example is at 127.0.0.1 in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)']);
    assert.equal(receiver.requests.length, 0, 'no connection was made');
  }, { allowPrivateTargets: false, resolve: async () => answer });
});

test('scoping: another tenant\'s subscription and deliveries are not-found, as if they did not exist', () =>
  rig(async ({ service, url }) => {
    const { subscription } = await service.subscribe('contoso', { url, events: ['delivered'] });
    const missing = { code: 'not-found', message: `webhook subscription ${subscription.id} does not exist` };
    await assert.rejects(service.show(subscription.id, { tenant: 'fabrikam' }), missing);
    await assert.rejects(service.rotate(subscription.id, {}, { tenant: 'fabrikam' }), missing);
    await assert.rejects(service.remove(subscription.id, { tenant: 'fabrikam' }), missing);
    await assert.rejects(service.test(subscription.id, { tenant: 'fabrikam' }), missing);
    await assert.rejects(service.deliveries(subscription.id, { tenant: 'fabrikam' }), missing);
    assert.deepEqual(await service.list({ tenant: 'fabrikam' }), []);
    await assert.rejects(service.subscribe('nobody', { url, events: ['delivered'] }), { code: 'not-found', message: 'tenant nobody does not exist' });
    assert.equal((await service.remove(subscription.id, { tenant: 'contoso' })).id, subscription.id);
    await assert.rejects(service.show(subscription.id), missing);
  }));

test('the default schedule retries for about 24 h with jitter of at most a tenth of each delay', () => {
  const total = defaultWebhookRetrySchedule.delays.reduce((a, b) => a + b, 0);
  assert.ok(total > 23 * 3_600_000 && total <= 24 * 3_600_000, String(total));
  assert.equal(retryDelay(defaultWebhookRetrySchedule, 1, () => 0), 4_500);
  assert.equal(retryDelay(defaultWebhookRetrySchedule, 1, () => 0.999_999), 5_500);
  assert.equal(retryDelay(defaultWebhookRetrySchedule, defaultWebhookRetrySchedule.delays.length + 1, () => 0.5), null);
});
