/**
 * The QueueStatsStore contract: counts by state, the oldest waiting message, expired leases, over
 * the whole queue. Every adapter runs it on a real database (sqlite/queue-stats.test.ts,
 * postgres/queue-stats.test.ts); the queue is filled through the queue's own ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, T0, type OpenedQueue } from './queue-contract.js';
import type { QueueStatsStore } from './ports.js';

const MINUTE = 60_000;

export type OpenedQueueWithStats = OpenedQueue & { stats: QueueStatsStore };

export function queueStatsStoreContract(adapter: string, open: () => Promise<OpenedQueueWithStats>): void {
  const withQueue = (name: string, fn: (o: OpenedQueueWithStats) => Promise<void>): void => {
    test(`${adapter} queue stats: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withQueue('an empty queue has every state at 0, no oldest message and no expired lease', async ({ stats }) => {
    assert.deepEqual(await stats.stats(T0), {
      recipients: { queued: 0, inflight: 0, deferred: 0, delivered: 0, failed: 0, held: 0, expired: 0 },
      oldestWaitingReceivedAt: null,
      expiredLeases: 0,
    });
  });

  withQueue('counts every state; the oldest waiting message ignores held and final recipients; a lease counts once it ran out', async ({ queue, admin, stats }) => {
    // Oldest of all, but held by the operator: not waiting for delivery.
    const held = accepted({ receivedAt: T0 - 30 * MINUTE }, ['h@remote.test']);
    // Its only recipient was refused at end of DATA: final from the start.
    const refused = accepted({ receivedAt: T0 - 20 * MINUTE }, [{ address: 'r@remote.test', state: 'failed', lastReply: '550 5.7.64 no', dsnStatus: 'suppressed' }]);
    const leased = accepted({ receivedAt: T0 - 10 * MINUTE }, ['a@remote.test', 'b@remote.test', 'c@remote.test']);
    const young = accepted({ receivedAt: T0 - MINUTE }, ['y@remote.test']);
    await queue.commit({ messages: [held, refused, leased, young], decisions: [] });
    const [heldEntry] = await admin.select({ ids: [held.id] }, { limit: 1 });
    assert.equal(await admin.transition({ ids: heldEntry!.recipients.map((r) => r.id), from: ['queued'], to: 'held' }, T0), 1);
    const [work, ...others] = await queue.claimDue('node-a', T0, 5 * MINUTE, 3);
    assert.deepEqual(others, []);
    const [a, b, c] = work!.recipients.map((r) => ({ id: r.id, generation: r.generation }));
    assert.equal(await queue.record('node-a', [
      { ...a!, state: 'delivered', reply: '250 ok', attempted: true },
      { ...b!, state: 'deferred', reply: '451 4.3.0 later', attempted: true, nextAttemptAt: T0 + 10 * MINUTE },
    ], T0), 2);
    assert.deepEqual(await stats.stats(T0 + MINUTE), {
      recipients: { queued: 1, inflight: 1, deferred: 1, delivered: 1, failed: 1, held: 1, expired: 0 },
      oldestWaitingReceivedAt: T0 - 10 * MINUTE,
      expiredLeases: 0,
    });
    // c's lease (5 minutes from T0) has run out: still in flight, now expired.
    assert.equal((await stats.stats(T0 + 5 * MINUTE)).expiredLeases, 1);
    assert.equal(await queue.record('node-a', [{ ...c!, state: 'expired', reply: '451 4.4.7 expired', attempted: true, dsnStatus: 'suppressed' }], T0 + MINUTE), 1);
    const retry = await queue.claimDue('node-a', T0 + 10 * MINUTE, 5 * MINUTE, 10);
    const again = retry.flatMap((w) => w.recipients);
    assert.deepEqual(again.map((r) => r.address).sort(), ['b@remote.test', 'y@remote.test']);
    await queue.record('node-a', again.map((r) => ({ id: r.id, generation: r.generation, state: 'delivered' as const, reply: '250 ok', attempted: true })), T0 + 10 * MINUTE);
    assert.deepEqual(await stats.stats(T0 + 10 * MINUTE), {
      recipients: { queued: 0, inflight: 0, deferred: 0, delivered: 3, failed: 1, held: 1, expired: 1 },
      oldestWaitingReceivedAt: null,
      expiredLeases: 0,
    });
  });

  withQueue('another handle on the same database sees the same queue', async ({ queue, another }) => {
    const m = accepted({ receivedAt: T0 - 2 * MINUTE }, ['a@remote.test', 'b@remote.test']);
    await queue.commit({ messages: [m], decisions: [] });
    const other = (await another()) as OpenedQueueWithStats;
    try {
      const seen = await other.stats.stats(T0);
      assert.equal(seen.recipients.queued, 2);
      assert.equal(seen.oldestWaitingReceivedAt, T0 - 2 * MINUTE);
    } finally {
      await other.close();
    }
  });
}
