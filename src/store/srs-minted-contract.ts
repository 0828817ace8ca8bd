/**
 * The SrsMintedStore contract: every adapter runs these tests against a real database
 * (sqlite/srs-minted-store.test.ts; the PostgreSQL adapter adds its own caller).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SrsMintedStore } from './ports.js';

export interface OpenedSrsMintedStore {
  store: SrsMintedStore;
  /** Another connection to the same database (what a second session or process would use). */
  second(): Promise<SrsMintedStore>;
  /** Closes every connection; `reopen` opens the same database again (durability). */
  close(): Promise<void>;
  reopen(): Promise<OpenedSrsMintedStore>;
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const ADDRESS = 'SRS0=ABCDEFGH=AB=foreign.example=victim@srs.relay.test';
const PER_RECIPIENT = 2;

export function srsMintedStoreContract(adapter: string, open: () => Promise<OpenedSrsMintedStore>): void {
  const withStore = (name: string, fn: (o: OpenedSrsMintedStore) => Promise<void>): void => {
    test(`${adapter} SRS minted store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('an address never recorded counts nothing', async ({ store }) => {
    assert.deepEqual(await store.reserveReturn(ADDRESS, 0, PER_RECIPIENT), { recorded: false, returnsLeft: 0, messageId: null });
  });

  withStore('a recorded address allows returns per outside recipient, then no more', async ({ store }) => {
    await store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 2, at: T0 });
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await store.reserveReturn(ADDRESS, T0 - DAY, PER_RECIPIENT));
    assert.deepEqual(seen, [
      { recorded: true, returnsLeft: 4, messageId: 'm1' },
      { recorded: true, returnsLeft: 3, messageId: 'm1' },
      { recorded: true, returnsLeft: 2, messageId: 'm1' },
      { recorded: true, returnsLeft: 1, messageId: 'm1' },
      { recorded: true, returnsLeft: 0, messageId: null },
    ]);
  });

  withStore('the address is compared without regard to case, whichever case was recorded', async ({ store }) => {
    await store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 1, at: T0 });
    await store.record({ address: 'SRS0=zzzzzzzz=ab=other.example=Someone@SRS.relay.test', messageId: 'm2', outsideRecipients: 1, at: T0 });
    assert.deepEqual(await store.reserveReturn(ADDRESS.toUpperCase(), T0, PER_RECIPIENT), { recorded: true, returnsLeft: 2, messageId: 'm1' });
    assert.deepEqual(await store.reserveReturn(ADDRESS.toLowerCase(), T0, PER_RECIPIENT), { recorded: true, returnsLeft: 1, messageId: 'm1' });
    assert.deepEqual(await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT), { recorded: true, returnsLeft: 0, messageId: null }, 'case variants share one allowance');
    assert.deepEqual(await store.reserveReturn('srs0=ZZZZZZZZ=AB=OTHER.EXAMPLE=someone@srs.relay.test', T0, PER_RECIPIENT), { recorded: true, returnsLeft: 2, messageId: 'm2' });
  });

  withStore('an address minted before `since` is not recorded any more', async ({ store }) => {
    await store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 1, at: T0 });
    assert.deepEqual(await store.reserveReturn(ADDRESS, T0 + 1, PER_RECIPIENT), { recorded: false, returnsLeft: 0, messageId: null });
    assert.deepEqual(await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT), { recorded: true, returnsLeft: 2, messageId: 'm1' });
  });

  withStore('a released return can be taken again; releasing never goes below zero', async ({ store }) => {
    await store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 1, at: T0 });
    await store.releaseReturn('m1');
    assert.equal((await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT)).returnsLeft, 2, 'a release without a reservation adds nothing');
    assert.equal((await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT)).messageId, 'm1');
    assert.deepEqual(await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT), { recorded: true, returnsLeft: 0, messageId: null });
    await store.releaseReturn('m1');
    assert.deepEqual(await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT), { recorded: true, returnsLeft: 1, messageId: 'm1' });
  });

  withStore('recording again is idempotent; a message minted under two addresses has one allowance', async ({ store }) => {
    await store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 1, at: T0 });
    await store.record({ address: ADDRESS.toUpperCase(), messageId: 'm1', outsideRecipients: 1, at: T0 + 1000 });
    const nextDay = ADDRESS.replace('=AB=', '=AC=');
    await store.record({ address: nextDay, messageId: 'm1', outsideRecipients: 1, at: T0 + DAY });
    assert.equal((await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT)).returnsLeft, 2);
    assert.deepEqual(await store.reserveReturn(nextDay, T0, PER_RECIPIENT), { recorded: true, returnsLeft: 1, messageId: 'm1' });
    assert.deepEqual(await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT), { recorded: true, returnsLeft: 0, messageId: null });
  });

  withStore('two messages with the same address: their allowances add up, the oldest is used first', async ({ store }) => {
    await store.record({ address: ADDRESS, messageId: 'm2', outsideRecipients: 1, at: T0 + 1000 });
    await store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 1, at: T0 });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await store.reserveReturn(ADDRESS, T0, PER_RECIPIENT)).messageId);
    assert.deepEqual(ids, ['m1', 'm1', 'm2', 'm2', null]);
  });

  withStore('racing callers on two connections never take more than the allowance', async (o) => {
    const other = await o.second();
    await o.store.record({ address: ADDRESS, messageId: 'm1', outsideRecipients: 3, at: T0 });
    const attempts = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? o.store : other).reserveReturn(ADDRESS, T0, PER_RECIPIENT));
    const results = await Promise.all(attempts);
    assert.equal(results.filter((r) => r.messageId !== null).length, 6);
    assert.ok(results.every((r) => r.recorded));
  });

  withStore('prune forgets what was minted before the limit and keeps the rest', async (o) => {
    await o.store.record({ address: ADDRESS, messageId: 'old', outsideRecipients: 1, at: T0 });
    const fresh = ADDRESS.replace('victim', 'other');
    await o.store.record({ address: fresh, messageId: 'new', outsideRecipients: 1, at: T0 + 22 * DAY });
    assert.equal(await o.store.prune(T0 + DAY), 1);
    assert.equal(await o.store.prune(T0 + DAY), 0);
    assert.equal((await o.store.reserveReturn(ADDRESS, 0, PER_RECIPIENT)).recorded, false);
    await o.close();
    const again = await o.reopen();
    try {
      assert.deepEqual(await again.store.reserveReturn(fresh, 0, PER_RECIPIENT), { recorded: true, returnsLeft: 2, messageId: 'new' }, 'kept across a reopen');
    } finally {
      await again.close();
    }
  });
}
