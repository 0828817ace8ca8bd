import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../policy/index.js';
import { validateDirectory } from '../directory/index.js';
import { openSqlite, type SqliteDatabase } from './sqlite/database.js';
import { SqliteDirectoryStore } from './sqlite/directory-store.js';
import { SqliteTenantSettingsStore } from './sqlite/tenant-settings-store.js';
import { TenantSettingsCache, TenantSettingsSnapshot } from './tenant-settings-snapshot.js';
import type { TenantSettingsStore } from './ports.js';

/** The real SQLite store, counting how often the cache asks it. */
function counted(store: TenantSettingsStore): Pick<TenantSettingsStore, 'revision' | 'read'> & { revisions: number; reads: number } {
  const c = {
    revisions: 0,
    reads: 0,
    revision: () => (c.revisions++, store.revision()),
    read: () => (c.reads++, store.read()),
  };
  return c;
}

async function setUp(): Promise<{ db: SqliteDatabase; directory: SqliteDirectoryStore; settings: SqliteTenantSettingsStore; contoso: string }> {
  const db = openSqlite(':memory:');
  const directory = new SqliteDirectoryStore(db);
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
  const contoso = (await directory.load()).tenants[0]!.id;
  return { db, directory, settings: new SqliteTenantSettingsStore(db), contoso };
}

test('the cache asks the revision at most once per interval and reads only when it moved', async () => {
  const { db, directory, settings, contoso } = await setUp();
  let now = 0;
  const store = counted(settings);
  const dir = buildSnapshot(await directory.load());
  const tenants = { snapshot: async () => dir };
  const cache = new TenantSettingsCache(store, tenants, 1000, () => now);
  const first = await cache.snapshot();
  assert.deepEqual([store.revisions, store.reads], [1, 1]);
  now = 999;
  assert.equal(await cache.snapshot(), first);
  assert.deepEqual([store.revisions, store.reads], [1, 1], 'within the interval: no store call');
  now = 1000;
  assert.equal(await cache.snapshot(), first, 'revision unchanged: the same snapshot');
  assert.deepEqual([store.revisions, store.reads], [2, 1]);
  await settings.setDailyLimit(contoso, 5);
  assert.equal(await cache.snapshot(), first, 'checked 0 ms ago');
  assert.equal((await cache.fresh()).dailyLimitOf(contoso), 5, 'fresh() asks at once');
  assert.deepEqual([store.revisions, store.reads], [3, 2]);
  db.close();
});

test('a snapshot asked while a check runs is the checked one, not the one before', async () => {
  const { db, directory, settings, contoso } = await setUp();
  let now = 0;
  let release = (): void => undefined;
  let gate: Promise<void> = Promise.resolve();
  // The real store, its read held until released: the check is in progress meanwhile.
  const slowRead = { revision: () => settings.revision(), read: async () => (await gate, settings.read()) };
  const dir = buildSnapshot(await directory.load());
  const cache = new TenantSettingsCache(slowRead, { snapshot: async () => dir }, 1000, () => now);
  await cache.snapshot();
  await settings.setDailyLimit(contoso, 3);
  gate = new Promise((r) => (release = r));
  now = 5000;
  assert.equal(cache.latest().dailyLimitOf(contoso), null, 'latest() does not wait; it starts the check');
  await new Promise((r) => setImmediate(r));
  const asked = cache.snapshot();
  release();
  assert.equal((await asked).dailyLimitOf(contoso), 3);
  db.close();
});

test('a renamed tenant is found by its new name in any case, with the same settings', async () => {
  const { db, directory, settings, contoso } = await setUp();
  await settings.setSrsSetting(contoso, { enabled: false, rewriteDomain: 'b.contoso.example' });
  let dir = buildSnapshot(await directory.load());
  const cache = new TenantSettingsCache(settings, { snapshot: async () => dir }, 0);
  assert.equal((await cache.snapshot()).tenantId('CONTOSO'), contoso);
  const current = await directory.load();
  await directory.replace({ tenants: current.tenants.map((t) => (t.id === contoso ? { ...t, name: 'northwind' } : t)) });
  dir = buildSnapshot(await directory.load());
  const renamed = await cache.snapshot();
  assert.equal(renamed.tenantId('contoso'), null);
  assert.equal(renamed.tenantId('NorthWind'), contoso);
  assert.equal(renamed.tenantName(contoso), 'northwind');
  assert.deepEqual(renamed.srsOf(contoso), { enabled: false, rewriteDomain: 'b.contoso.example' });
  db.close();
});

test('the snapshot signs with the newest active key of exactly the domain and lists each rewrite domain once', () => {
  const key = (selector: string, createdAt: number, active = true, domain = 'contoso.example') => ({
    tenantId: 'T', domain, selector, algorithm: 'rsa' as const, privateKey: `k-${selector}`, publicKey: 'p', active, createdAt,
  });
  const s = new TenantSettingsSnapshot(
    {
      revision: 1,
      dkimKeys: [key('old', 1), key('new', 3), key('off', 9, false), key('b', 2), key('a', 3), key('sub', 5, true, 'mail.contoso.example')],
      routes: [],
      srs: [
        { tenantId: 'T', setting: { enabled: true, rewriteDomain: 'srs.example' } },
        { tenantId: 'U', setting: { enabled: false, rewriteDomain: 'srs.example' } },
        { tenantId: 'V', setting: { enabled: false, rewriteDomain: null } },
      ],
      dailyLimits: [],
      relayedHeaders: [{ tenantId: 'U', keep: true }, { tenantId: 'V', keep: false }],
    },
    [{ id: 'T', name: 'contoso' }],
  );
  assert.deepEqual(['T', 'U', 'V'].map((id) => s.keepsRelayedHeaders(id)), [false, true, false], 'off unless the tenant chose to keep them');
  assert.equal(s.activeDkimKey('T', 'contoso.example')?.selector, 'a', 'newest; of two as new, the first selector');
  assert.equal(s.activeDkimKey('T', 'mail.contoso.example')?.selector, 'sub');
  assert.equal(s.activeDkimKey('T', 'other.example'), null);
  assert.equal(s.activeDkimKey('U', 'contoso.example'), null);
  assert.deepEqual(s.rewriteDomains(), ['srs.example']);
  assert.deepEqual(s.srsOf('W'), { enabled: true, rewriteDomain: null }, 'the default');
  assert.equal(s.dailyLimitOf('T'), null);
});
