/**
 * Delivery's metrics from real attempts (DeliveryHarness: the real scheduler, courier, SQLite queue
 * and receivers on loopback, a ManualClock): each outcome with its class — a 250, a 550, a 451, a
 * host nobody listens on, a 4xx past the message's expiry — and an outcome a node could not record
 * because its lease had run out and another node had claimed the recipient.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryHarness, T0 } from './delivery-harness.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { family, parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { waitFor } from '../support/wait-for.js';

let h: DeliveryHarness;
afterEach(async () => h?.stop());

const HOUR = 3_600_000;

test('every attempt is counted by outcome, class and tenant; a delivered one also by its end-to-end time', async () => {
  h = await DeliveryHarness.started();
  // down.test's MX is 127.0.0.4, where nothing listens on the receivers' port.
  h.dns.set('down.test', { MX: [{ preference: 10, exchange: 'mx.down.test' }] }).set('mx.down.test', { A: ['127.0.0.4'] });
  await h.receiver(1, {
    rcpt: (to) => (to.startsWith('gone@') ? { code: 550, text: '5.1.1 No such user' } : to.startsWith('busy') ? { code: 451, text: '4.3.0 Try later' } : 'accept'),
  });
  const metrics = createMetrics({ tenantLabelLimit: 10, processMetrics: false });
  h.makeService({ metrics: metrics.recorder, socketTimeoutMs: 1_000 });
  await h.enqueue({ from: 'alice@contoso.test', to: ['ok@remote.test', 'gone@remote.test', 'busy@remote.test'], receivedAt: T0 - 30_000 });
  await h.enqueue({ from: 'alice@contoso.test', to: ['x@down.test'] });
  // Received 25 hours ago: a temporary failure now ends its time in the queue (expireAfter 24h).
  await h.enqueue({ from: 'bob@fabrikam.test', to: ['busy2@remote.test'], tenant: 'fabrikam', receivedAt: T0 - 25 * HOUR });
  const summary = await h.service.runOnce();
  assert.deepEqual([summary.delivered, summary.failed, summary.deferred, summary.expired], [1, 1, 2, 1]);

  const samples = parsePrometheusText(await metrics.registry.metrics());
  assert.deepEqual(family(samples, 'relaygate_delivery_outcomes_total'), {
    'class=2xx,outcome=delivered,tenant=contoso': 1,
    'class=5xx,outcome=failed,tenant=contoso': 1,
    'class=4xx,outcome=deferred,tenant=contoso': 1,
    'class=connection,outcome=deferred,tenant=contoso': 1,
    'class=4xx,outcome=expired,tenant=fabrikam': 1,
  });
  // Accepted 30 s before the (manual) clock's now: in the 30 s bucket, not the 10 s one.
  assert.equal(sampleValue(samples, 'relaygate_delivery_end_to_end_seconds_count'), 1);
  assert.equal(sampleValue(samples, 'relaygate_delivery_end_to_end_seconds_sum'), 30);
  assert.equal(sampleValue(samples, 'relaygate_delivery_end_to_end_seconds_bucket', { le: '10' }), 0);
  assert.equal(sampleValue(samples, 'relaygate_delivery_end_to_end_seconds_bucket', { le: '30' }), 1);
  assert.equal(sampleValue(samples, 'relaygate_delivery_leases_lost_total'), 0);
});

test('a node whose lease ran out while it delivered cannot record the outcome, and the metrics count it', async () => {
  h = await DeliveryHarness.started();
  let release!: () => void;
  const held = new Promise<'accept'>((resolve) => (release = () => resolve('accept')));
  let transactions = 0;
  // The first transaction's end of DATA waits until the test lets it go; later ones are answered at once.
  await h.receiver(1, { data: () => (++transactions === 1 ? { later: held } : 'accept') });
  const metricsA = createMetrics({ tenantLabelLimit: 10, processMetrics: false });
  const metricsB = createMetrics({ tenantLabelLimit: 10, processMetrics: false });
  const a = h.makeService({ nodeId: 'node-a', leaseMs: 60_000, metrics: metricsA.recorder });
  const b = h.makeService({ nodeId: 'node-b', leaseMs: 60_000, metrics: metricsB.recorder });
  await h.enqueue({ from: 'alice@contoso.test', to: ['late@remote.test'] });
  const passA = a.runOnce();
  await waitFor(() => transactions === 1, { message: 'node a is in its transaction' });
  // Node a's lease (a minute) runs out on the manual clock; node b claims the recipient and delivers it.
  h.clock.advance(5 * 60_000);
  const passB = await b.runOnce();
  assert.equal(passB.delivered, 1);
  release();
  const summaryA = await passA;
  assert.equal(summaryA.refused, 1);
  const a1 = parsePrometheusText(await metricsA.registry.metrics());
  assert.equal(sampleValue(a1, 'relaygate_delivery_leases_lost_total'), 1);
  // Node a did deliver (the receiver has two copies): its attempt counts as one, its record was refused.
  assert.deepEqual(family(a1, 'relaygate_delivery_outcomes_total'), { 'class=2xx,outcome=delivered,tenant=contoso': 1 });
  assert.equal(sampleValue(parsePrometheusText(await metricsB.registry.metrics()), 'relaygate_delivery_leases_lost_total'), 0);
});
