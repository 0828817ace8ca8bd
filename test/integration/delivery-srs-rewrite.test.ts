/**
 * Where delivery rewrites the envelope sender with SRS: only in transactions to recipients the
 * tenant relayed to outside domains, each minted address recorded with its message before it is
 * used (and pruned after the SRS age). Real SQLite, a real receiving SMTP server, a ManualClock.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryHarness, T0 } from './delivery-harness.js';
import { SqliteSrsMintedStore } from '../../src/store/sqlite/srs-minted-store.js';

const DAY = 86_400_000;
let h: DeliveryHarness;
afterEach(async () => {
  await h.stop();
});

test('a message with relayed and internal recipients on one host goes in two transactions; only the relayed one is rewritten and recorded', async () => {
  h = await DeliveryHarness.started();
  const remote = await h.receiver(1);
  const service = h.makeService();
  const id = await h.enqueue({
    from: 'someone@partner.test',
    to: [
      { address: 'bob@remote.test', verdict: 'relay' },
      { address: 'carol@remote.test', verdict: 'relay' },
      { address: 'staff@remote.test', verdict: 'internal' },
    ],
  });
  const pass = await service.runOnce();
  assert.equal(pass.delivered, 3);
  const byFrom = new Map(remote.messages.map((m) => [m.from, m.recipients.map((r) => r.address)]));
  assert.equal(remote.messages.length, 2, 'one transaction per kind of recipient');
  assert.deepEqual(byFrom.get('someone@partner.test'), ['staff@remote.test'], 'internal mail keeps its P1');
  const srs = [...byFrom.keys()].find((f) => f.startsWith('SRS0='));
  assert.ok(srs, 'the relayed recipients got an SRS sender');
  assert.match(srs, /^SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=partner\.test=someone@relay\.test$/);
  assert.deepEqual(byFrom.get(srs), ['bob@remote.test', 'carol@remote.test']);
  const minted = new SqliteSrsMintedStore(h.db);
  assert.deepEqual(await minted.reserveReturn(srs, T0, 2), { recorded: true, returnsLeft: 4, messageId: id }, 'two outside recipients, two returns each');
});

test('inbound and internal recipients of a foreign sender are never rewritten, nor recorded', async () => {
  h = await DeliveryHarness.started();
  const remote = await h.receiver(1);
  const service = h.makeService();
  await h.enqueue({ from: 'victim@foreign.test', to: [{ address: 'user@remote.test', verdict: 'inbound' }] });
  await h.enqueue({ from: 'victim@foreign.test', to: [{ address: 'staff@remote.test', verdict: 'internal' }] });
  await service.runOnce();
  assert.deepEqual(remote.messages.map((m) => m.from), ['victim@foreign.test', 'victim@foreign.test']);
  assert.equal(h.db.prepare('SELECT COUNT(*) FROM srs_minted_addresses').pluck().get(), 0);
});

test('records older than the SRS age are pruned; younger ones are kept', async () => {
  h = await DeliveryHarness.started();
  const remote = await h.receiver(1);
  const service = h.makeService();
  await h.enqueue({ from: 'someone@partner.test', to: ['bob@remote.test'] });
  await service.runOnce();
  const srs = remote.messages[0]!.from;
  const minted = new SqliteSrsMintedStore(h.db);
  h.clock.advance(22 * DAY);
  assert.equal(await service.pruneSrsRecords(), 0, 'still within 21 days plus the day the timestamp rounds down');
  h.clock.advance(1);
  assert.equal(await service.pruneSrsRecords(), 1);
  assert.equal((await minted.reserveReturn(srs, 0, 2)).recorded, false);
});

test('when the minted address cannot be recorded, nothing is sent and the recipient waits with 451 4.3.0', async () => {
  h = await DeliveryHarness.started();
  const remote = await h.receiver(1);
  const service = h.makeService();
  h.db.exec('DROP TABLE srs_minted_addresses');
  await h.enqueue({ from: 'someone@partner.test', to: ['bob@remote.test'] });
  const pass = await service.runOnce();
  assert.equal(pass.deferred, 1);
  assert.equal(remote.messages.length, 0, 'an unrecorded SRS sender is never used');
  const [r] = await h.recipients();
  assert.deepEqual([r?.state, r?.last_reply], ['deferred', '451 4.3.0 Temporary server error, please try again later']);
});
