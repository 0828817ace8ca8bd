/**
 * The DestinationBudget contract: connection slots leased per node within one limit for all nodes,
 * and messages counted per window within one limit, on separate handles (as separate processes or
 * nodes have) too. sqlite/destination-budget.test.ts and postgres/destination-budget.test.ts run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DestinationBudget } from './ports.js';

export interface OpenedBudget {
  budget: DestinationBudget;
  /** The same store on a second, independent connection. */
  second: DestinationBudget;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const LEASE = 60_000;
const D = 'mx.remote.test';

export function destinationBudgetContract(adapter: string, open: () => Promise<OpenedBudget>): void {
  const withBudget = (name: string, fn: (o: OpenedBudget) => Promise<void>): void => {
    test(`${adapter} destination budget: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withBudget('a node gets the slots it asks for while the limit leaves them; the next gets what is left, then none', async ({ budget, second }) => {
    assert.equal(await budget.acquireSlots('node-a', D, 3, 5, T0, T0 + LEASE), 3);
    assert.equal(await second.acquireSlots('node-b', D, 3, 5, T0, T0 + LEASE), 2);
    assert.equal(await budget.acquireSlots('node-c', D, 3, 5, T0, T0 + LEASE), 0);
    assert.equal(await second.acquireSlots('node-c', 'other.test', 3, 5, T0, T0 + LEASE), 3, 'each destination has its own budget');
  });

  withBudget("asking again replaces the node's own share; giving it back frees it for the others", async ({ budget, second }) => {
    assert.equal(await budget.acquireSlots('node-a', D, 4, 4, T0, T0 + LEASE), 4);
    assert.equal(await budget.acquireSlots('node-a', D, 1, 4, T0, T0 + LEASE), 1, 'its own slots do not stand in its way');
    assert.equal(await second.acquireSlots('node-b', D, 4, 4, T0, T0 + LEASE), 3);
    await second.releaseSlots('node-b', D);
    assert.equal(await budget.acquireSlots('node-c', D, 4, 4, T0, T0 + LEASE), 3);
    await budget.acquireSlots('node-a', 'other.test', 2, 4, T0, T0 + LEASE);
    await budget.releaseSlots('node-a');
    assert.equal(await second.acquireSlots('node-b', D, 4, 4, T0, T0 + LEASE), 1, "node-a's slots everywhere are given back, node-c's stay");
    assert.equal(await second.acquireSlots('node-b', 'other.test', 4, 4, T0, T0 + LEASE), 4);
  });

  withBudget('slots whose lease ran out count for nothing; a renewal extends only live ones', async ({ budget, second }) => {
    assert.equal(await budget.acquireSlots('node-dead', D, 2, 2, T0, T0 + LEASE), 2);
    assert.equal(await budget.acquireSlots('node-live', 'other.test', 2, 2, T0, T0 + LEASE), 2);
    assert.equal(await second.acquireSlots('node-b', D, 2, 2, T0 + LEASE - 1, T0 + 2 * LEASE), 0, 'still held');
    assert.equal(await budget.renewSlots('node-live', T0 + LEASE - 1, T0 + 2 * LEASE), 1);
    assert.equal(await second.acquireSlots('node-b', D, 2, 2, T0 + LEASE, T0 + 2 * LEASE), 2, "the dead node's lease ran out");
    assert.equal(await budget.renewSlots('node-dead', T0 + LEASE, T0 + 3 * LEASE), 0, 'a lapsed share is not revived');
    assert.equal(await second.acquireSlots('node-b', 'other.test', 2, 2, T0 + LEASE, T0 + 2 * LEASE), 0, 'the renewed share still holds');
  });

  withBudget('nodes asking at once on two handles never hold more than the limit together', async ({ budget, second }) => {
    const granted = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? budget : second).acquireSlots(`node-${i}`, D, 1, 5, T0, T0 + LEASE)));
    assert.equal(granted.reduce((a, b) => a + b, 0), 5, `granted: ${granted.join(', ')}`);
  });

  withBudget('messages are counted up to the limit of their window, in part when only part fits; the next window starts again', async ({ budget, second }) => {
    assert.equal(await budget.countMessages(D, T0, 3, 5), 3);
    assert.equal(await second.countMessages(D, T0, 3, 5), 2, 'what is left of the window');
    assert.equal(await budget.countMessages(D, T0, 1, 5), 0);
    assert.equal(await budget.countMessages('other.test', T0, 5, 5), 5, 'each destination has its own count');
    assert.equal(await second.countMessages(D, T0 + 60_000, 4, 5), 4);
    assert.equal(await budget.countMessages(D, T0 + 60_000, 4, 5), 1);
  });

  withBudget('counting at once on two handles never passes the limit', async ({ budget, second }) => {
    const counted = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? budget : second).countMessages(D, T0, 2, 25)));
    assert.equal(counted.reduce((a, b) => a + b, 0), 25, `counted: ${counted.join(', ')}`);
  });

  withBudget('a count that is not a whole number of at least 0 is refused', async ({ budget }) => {
    await assert.rejects(budget.acquireSlots('node-a', D, -1, 5, T0, T0 + LEASE), /connection slots: -1 is not a count/);
    await assert.rejects(budget.countMessages(D, T0, 1.5, 5), /messages: 1.5 is not a count/);
  });
}
