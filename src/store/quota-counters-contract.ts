/**
 * The QuotaCounters contract: add-and-check in one atomic step, so counters on separate
 * connections (as separate processes have) never let the count pass the limit between them.
 * sqlite/quota-counters.test.ts runs it; the PostgreSQL adapter adds its own caller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDirectory, type StoredTenant } from '../directory/index.js';
import type { DirectoryStore, QuotaCounters } from './ports.js';

export interface OpenedCounters {
  directory: DirectoryStore;
  counters: QuotaCounters;
  /** Counters on a second, independent connection to the same database. */
  second: QuotaCounters;
  close(): Promise<void>;
}

const DAY = '2026-03-02';

async function tenants(directory: DirectoryStore): Promise<[StoredTenant, StoredTenant]> {
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
  const [a, b] = (await directory.load()).tenants;
  return [a!, b!];
}

export function quotaCountersContract(adapter: string, open: () => Promise<OpenedCounters>): void {
  const withStore = (name: string, fn: (o: OpenedCounters) => Promise<void>): void => {
    test(`${adapter} quota counters: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('without a limit every add counts; counts are per tenant and day', async ({ directory, counters }) => {
    const [contoso, fabrikam] = await tenants(directory);
    assert.equal(await counters.count(contoso.id, DAY), 0);
    assert.deepEqual(await counters.add(contoso.id, DAY, 3, null), { ok: true, count: 3 });
    assert.deepEqual(await counters.add(contoso.id, DAY, 4, null), { ok: true, count: 7 });
    assert.deepEqual(await counters.add(contoso.id, '2026-03-03', 1, null), { ok: true, count: 1 });
    assert.deepEqual(await counters.add(fabrikam.id, DAY, 0, null), { ok: true, count: 0 });
    assert.equal(await counters.count(contoso.id, DAY), 7);
    assert.equal(await counters.count(fabrikam.id, DAY), 0);
  });

  withStore('with a limit an add counts only if the count stays within it; a refused add counts nothing', async ({ directory, counters }) => {
    const [contoso] = await tenants(directory);
    assert.deepEqual(await counters.add(contoso.id, DAY, 2, 3), { ok: true, count: 2 });
    assert.deepEqual(await counters.add(contoso.id, DAY, 2, 3), { ok: false, count: 2 }, 'would make 4');
    assert.deepEqual(await counters.add(contoso.id, DAY, 1, 3), { ok: true, count: 3 });
    assert.deepEqual(await counters.add(contoso.id, DAY, 1, 3), { ok: false, count: 3 });
    assert.deepEqual(await counters.add(contoso.id, DAY, 1, 0), { ok: false, count: 3 });
    assert.deepEqual(await counters.add(contoso.id, '2026-03-03', 5, 4), { ok: false, count: 0 }, 'more than the limit at once');
    assert.equal(await counters.count(contoso.id, '2026-03-03'), 0);
  });

  withStore('two connections adding at once never pass the limit between them', async ({ directory, counters, second }) => {
    const [contoso] = await tenants(directory);
    const LIMIT = 25;
    const adder = async (c: QuotaCounters): Promise<number> => {
      let ok = 0;
      for (let i = 0; i < 20; i++) if ((await c.add(contoso.id, DAY, 1, LIMIT)).ok) ok++;
      return ok;
    };
    const [a, b] = await Promise.all([adder(counters), adder(second)]);
    assert.equal(a + b, LIMIT, `accepted ${a} + ${b}`);
    assert.ok(a > 0 && b > 0, 'both connections counted');
    assert.equal(await counters.count(contoso.id, DAY), LIMIT);
    assert.equal(await second.count(contoso.id, DAY), LIMIT);
  });

  withStore('a negative or fractional count and an unknown tenant are refused', async ({ directory, counters }) => {
    const [contoso] = await tenants(directory);
    await assert.rejects(counters.add(contoso.id, DAY, -1, null), RangeError);
    await assert.rejects(counters.add(contoso.id, DAY, 1.5, null), RangeError);
    await assert.rejects(counters.add('01KDVDNA00ZZZZZZZZZZZZZZZZ', DAY, 1, null));
    assert.equal(await counters.count(contoso.id, DAY), 0);
  });

  withStore("a removed tenant's counts go with it", async ({ directory, counters }) => {
    const [contoso] = await tenants(directory);
    await counters.add(contoso.id, DAY, 5, null);
    await directory.removeTenant('contoso');
    assert.equal(await counters.count(contoso.id, DAY), 0);
  });
}
