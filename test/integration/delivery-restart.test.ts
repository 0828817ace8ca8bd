import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryHarness, T0 } from './delivery-harness.js';
import { waitFor } from '../support/wait-for.js';

let h: DeliveryHarness;
afterEach(async () => {
  await h.stop();
});

async function setup(): Promise<DeliveryHarness> {
  h = await DeliveryHarness.started();
  return h;
}

test('restart mid-queue: leased recipients of a crashed run are delivered once, delivered ones never again', async () => {
  await setup();
  const remote = await h.receiver(1);
  const first = h.makeService();
  await h.enqueue({ from: 'alice@contoso.test', to: ['a@remote.test'] });
  await first.runOnce();
  assert.equal(remote.messages.length, 1);
  await h.enqueue({ from: 'alice@contoso.test', to: ['b@remote.test', 'c@remote.test'] });
  await h.enqueue({ from: 'alice@contoso.test', to: ['d@remote.test'] });
  // The process "crashes" right after leasing: nothing is recorded, the file is closed. It ran as
  // the same node (test-node) that starts again below.
  const claimed = await h.queue.claimDue('test-node', T0, 10 * 60_000, 100);
  assert.equal(claimed.flatMap((w) => w.recipients).length, 3);
  h.db.close();

  h.openDb();
  assert.deepEqual((await h.recipients()).map((r) => r.state), ['inflight', 'inflight', 'inflight']);
  const second = h.makeService();
  await second.start();
  assert.deepEqual((await h.recipients()).map((r) => r.state), ['queued', 'queued', 'queued'], 'start() makes them due again');
  await second.stop();
  await second.runOnce();
  const delivered = remote.messages.flatMap((m) => m.recipients.map((r) => r.address)).sort();
  assert.deepEqual(delivered, ['a@remote.test', 'b@remote.test', 'c@remote.test', 'd@remote.test'], 'each exactly once');
  assert.deepEqual((await h.messages()), []);
});

test("a start releases only its own node's leases: another node's live work waits for that lease to run out", async () => {
  await setup();
  const remote = await h.receiver(1);
  await h.enqueue({ from: 'alice@contoso.test', to: ['mine@remote.test'] });
  await h.queue.claimDue('test-node', T0, 10 * 60_000, 100);
  await h.enqueue({ from: 'alice@contoso.test', to: ['theirs@remote.test'] });
  await h.queue.claimDue('other-node', T0, 10 * 60_000, 100);
  const service = h.makeService();
  await service.start();
  await service.stop();
  const leases = async () => (await h.queued()).flatMap((e) => e.recipients.map((r) => [r.address, r.state, r.lease?.owner ?? null]));
  assert.deepEqual((await leases()).sort(), [['mine@remote.test', 'queued', null], ['theirs@remote.test', 'inflight', 'other-node']]);
  await service.runOnce();
  assert.deepEqual(remote.messages.flatMap((m) => m.recipients.map((r) => r.address)), ['mine@remote.test'], "the other node's recipient is not taken");
  h.clock.advance(10 * 60_000);
  await service.runOnce();
  assert.deepEqual(remote.messages.flatMap((m) => m.recipients.map((r) => r.address)), ['mine@remote.test', 'theirs@remote.test'], 'once its lease ran out');
  assert.deepEqual(await h.messages(), []);
});

test('leases: another scheduler claims only after the lease ran out, and the old holder can no longer record', async () => {
  await setup();
  await h.enqueue({ from: 'alice@contoso.test', to: ['a@remote.test'] });
  const store = h.queue;
  const [work] = await store.claimDue('node-x', T0, 60_000, 10);
  assert.ok(work);
  assert.deepEqual(await store.claimDue('node-y', T0 + 59_999, 60_000, 10), [], 'the lease holds');
  const taken = await store.claimDue('node-y', T0 + 60_000, 60_000, 10);
  assert.equal(taken.length, 1, 'an expired lease makes the recipient due again');
  const id = work.recipients[0]!.id;
  const [old, current] = [work.recipients[0]!.generation, taken[0]!.recipients[0]!.generation];
  assert.equal(await store.record('node-x', [{ id, generation: old, state: 'delivered', reply: '250 ok', attempted: true }], T0 + 61_000), 0);
  assert.equal(await store.record('node-y', [{ id, generation: current, state: 'delivered', reply: '250 ok', attempted: true }], T0 + 61_000), 1);
  assert.equal((await h.recipients())[0]!.state, 'delivered');
  await assert.rejects(store.record('node-y', [{ id, generation: current, state: 'held' as never, reply: null, attempted: false }], T0), /a recipient cannot go from inflight to held/);
});

test('throttled messages wait without using up an attempt', async () => {
  await setup();
  const remote = await h.receiver(1);
  const service = h.makeService({ throttle: { perDestinationPerMinute: 1 } });
  await h.enqueue({ from: 'alice@contoso.test', to: ['a@remote.test'] });
  await h.enqueue({ from: 'alice@contoso.test', to: ['b@remote.test'] });
  const pass = await service.runOnce();
  assert.deepEqual({ delivered: pass.delivered, throttled: pass.throttled }, { delivered: 1, throttled: 1 });
  const waiting = (await h.recipients())[0]!;
  assert.deepEqual(
    { state: waiting.state, attempts: waiting.attempts, next: waiting.next_attempt_at - T0, reply: waiting.last_reply },
    { state: 'queued', attempts: 0, next: 60_000, reply: 'throttled: rate limit of 1 messages per minute to remote.test reached' },
  );
  assert.equal((await service.runOnce()).claimed, 0, 'not due before the window moves on');
  h.clock.advance(60_000);
  assert.equal((await service.runOnce()).delivered, 1);
  assert.equal(remote.messages.length, 2);
});

test('tenant outbound routes come before static routes, which come before MX', async () => {
  await setup();
  const mx = await h.receiver(1);
  const smarthost = await h.receiver(5, { auth: { user: 'contoso', pass: 'pw-123' } });
  const staticHost = await h.receiver(6);
  const service = h.makeService({
    delivery: {
      retry: [60_000], expireAfter: 86_400_000, delayNotifyAfter: 14_400_000, dns: { servers: [h.dnsAddress], timeout: 1000 },
      routes: [{ domains: ['remote.test', '*.other.test'], host: '127.0.0.6', port: h.port, tls: 'none' }],
    },
  });
  await h.settings.addRoute(h.tenantId('contoso'), { domains: ['remote.test'], host: '127.0.0.5', port: h.port, tls: 'none', auth: { user: 'contoso', pass: 'pw-123' } });
  await h.enqueue({ from: 'alice@contoso.test', to: ['a@remote.test', 'b@sub.other.test'] });
  await h.enqueue({ from: 'x@fabrikam.test', tenant: 'fabrikam', to: ['c@remote.test'] });
  await service.runOnce();
  assert.deepEqual(smarthost.messages.map((m) => [m.user, m.recipients.map((r) => r.address)]), [['contoso', ['a@remote.test']]]);
  assert.deepEqual(staticHost.messages.flatMap((m) => m.recipients.map((r) => r.address)).sort(), ['b@sub.other.test', 'c@remote.test']);
  assert.equal(mx.messages.length, 0);
});

test('the service runs its own passes: start() then kick() delivers without runOnce()', async () => {
  await setup();
  const remote = await h.receiver(1);
  const service = h.makeService({ pollIntervalMs: 50 });
  await service.start();
  await h.enqueue({ from: 'alice@contoso.test', to: ['a@remote.test'] });
  service.kick();
  try {
    await waitFor(() => remote.messages.length > 0, { message: 'the service delivers the message by itself' });
  } finally {
    await service.stop();
  }
  assert.equal(remote.messages.length, 1);
  assert.deepEqual((await h.messages()), []);
});

test('many messages to one destination share connections: one more per five messages, each carrying several', async () => {
  await setup();
  const remote = await h.receiver(1);
  const service = h.makeService();
  for (let i = 0; i < 6; i++) await h.enqueue({ from: 'alice@contoso.test', to: [`u${i}@remote.test`] });
  assert.equal((await service.runOnce()).delivered, 6);
  assert.equal(remote.messages.length, 6);
  assert.equal(remote.connections, 2);
});

test('a backlog drains pass after pass without waiting for the poll interval', async () => {
  await setup();
  const remote = await h.receiver(1);
  // Batches of 2 and a poll interval far longer than the wait below: only back-to-back passes
  // (a full batch asks for the next one at once) deliver all seven in time.
  const service = h.makeService({ pollIntervalMs: 600_000, batchSize: 2 });
  for (let i = 0; i < 7; i++) await h.enqueue({ from: 'alice@contoso.test', to: [`b${i}@remote.test`] });
  await service.start();
  try {
    await waitFor(() => remote.messages.length >= 7, { message: () => `seven messages delivered (${remote.messages.length} so far)` });
  } finally {
    await service.stop();
  }
  assert.equal(remote.messages.length, 7);
  assert.deepEqual((await h.messages()), []);
});

test('an outcome is on disk right after its transaction, while the rest of the pass is still running', async () => {
  await setup();
  let seen = 0;
  // Both messages go over one connection: the first is accepted, the second never answered.
  const remote = await h.receiver(1, { data: () => (seen++ === 0 ? 'accept' : 'stall') });
  const service = h.makeService({ socketTimeoutMs: 3_000 });
  await h.enqueue({ from: 'alice@contoso.test', to: ['first@remote.test'] });
  await h.enqueue({ from: 'alice@contoso.test', to: ['second@remote.test'] });
  const pass = service.runOnce();
  const stateOf = async (address: string) => (await h.recipients()).find((r) => r.address === address)?.state;
  let first: string | undefined;
  await waitFor(async () => (first = await stateOf('first@remote.test')) === 'delivered', { message: () => `first@remote.test delivered (it is ${first})` });
  // A crash now would not send the first message again: its outcome is already recorded.
  assert.equal(await stateOf('first@remote.test'), 'delivered');
  assert.equal(await stateOf('second@remote.test'), 'inflight');
  await pass;
  assert.equal(await stateOf('second@remote.test'), 'deferred');
  assert.equal(remote.messages.length, 1);
});
