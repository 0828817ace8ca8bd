import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/database.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { SqliteQuotaCounters } from '../store/sqlite/quota-counters.js';
import { SqliteTenantSettingsStore } from '../store/sqlite/tenant-settings-store.js';
import { TenantSettingsCache } from '../store/tenant-settings-snapshot.js';
import { buildSnapshot } from '../policy/index.js';
import { validateDirectory } from '../directory/index.js';
import { RecipientQuota } from './recipient-quota.js';
import { ManualClock, type Clock } from '../core/clock.js';
import { formatReply } from '../core/reply.js';

/** The quota as `serve` builds it on one database connection (one process). */
function quotaOn(db: SqliteDatabase, clock: Clock): RecipientQuota {
  const directory = new SqliteDirectoryStore(db);
  const tenants = { snapshot: async () => buildSnapshot(await directory.load()) };
  const settings = new TenantSettingsCache(new SqliteTenantSettingsStore(db), tenants, 0);
  return new RecipientQuota({ settings, counters: new SqliteQuotaCounters(db), clock });
}

/** Each tenant as the policy's decision names it: id and name. */
type Tenants = Record<string, { id: string; name: string }>;

async function setUp(file: string, limits: Record<string, number>): Promise<Tenants> {
  const db = openSqlite(file);
  const directory = new SqliteDirectoryStore(db);
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
  const settings = new SqliteTenantSettingsStore(db);
  for (const t of (await directory.load()).tenants) {
    const limit = limits[t.name];
    if (limit !== undefined) await settings.setDailyLimit(t.id, limit);
  }
  const tenants = Object.fromEntries((await directory.load()).tenants.map((t) => [t.name, { id: t.id, name: t.name }]));
  db.close();
  return tenants;
}

test('a daily recipient quota refuses with a generic 550 5.7.232 (tenant and limit only in the reason), resets the next UTC day and survives a restart', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T23:59:00Z'));
  const { contoso, fabrikam } = await setUp(file, { contoso: 3 });
  let db = openSqlite(file);
  let quota = quotaOn(db, clock);
  assert.deepEqual([await quota.admit(contoso!), await quota.admit(contoso!)], [{ ok: true }, { ok: true }]);
  assert.deepEqual(await quota.admit(fabrikam!), { ok: true }, 'no limit set: unlimited');
  await quota.flush();
  db.close();

  db = openSqlite(file);
  quota = quotaOn(db, clock);
  assert.deepEqual(await quota.admit(contoso!), { ok: true }, 'the third of today, counted before the restart');
  const refused = await quota.admit(contoso!);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && formatReply(refused.reply), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
  assert.equal(!refused.ok && refused.reason, 'daily recipient quota of 3 for tenant contoso reached');
  clock.advance(60_000);
  assert.deepEqual(await quota.admit(contoso!), { ok: true }, 'a new UTC day');
  await quota.flush();
  assert.deepEqual(
    db.prepare('SELECT t.name AS tenant, day, recipients FROM tenant_recipient_counts c JOIN tenants t ON t.id = c.tenant_id ORDER BY t.name, day').all(),
    [
      { tenant: 'contoso', day: '2026-03-02', recipients: 3 },
      { tenant: 'contoso', day: '2026-03-03', recipients: 1 },
      { tenant: 'fabrikam', day: '2026-03-02', recipients: 1 },
    ],
  );
  db.close();
});

test('two processes on one store enforce one limit between them, not one each', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T12:00:00Z'));
  const { contoso } = await setUp(file, { contoso: 10 });
  const first = openSqlite(file);
  const second = openSqlite(file);
  try {
    const a = quotaOn(first, clock);
    const b = quotaOn(second, clock);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).admit(contoso!)));
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.equal((await a.admit(contoso!)).ok, false);
    assert.equal((await b.admit(contoso!)).ok, false);
  } finally {
    first.close();
    second.close();
  }
});

test('a limit set during the day starts from what was counted without one', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T12:00:00Z'));
  const { contoso } = await setUp(file, {});
  const db = openSqlite(file);
  try {
    const quota = quotaOn(db, clock);
    for (let i = 0; i < 4; i++) assert.deepEqual(await quota.admit(contoso!), { ok: true });
    const settings = new SqliteTenantSettingsStore(db);
    await settings.setDailyLimit(contoso!.id, 5);
    assert.deepEqual(await quota.admit(contoso!), { ok: true }, 'the fifth');
    const refused = await quota.admit(contoso!);
    assert.equal(!refused.ok && formatReply(refused.reply), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
    assert.equal(!refused.ok && refused.reason, 'daily recipient quota of 5 for tenant contoso reached');
    assert.deepEqual(await quota.admit({ id: '01JGZZZZZZZZZZZZZZZZZZZZZZ', name: 'nobody' }), { ok: true }, 'not a tenant: no quota');
  } finally {
    db.close();
  }
});

test('a tenant renamed a moment ago keeps its quota at the next RCPT, before the settings snapshot knows the new name', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T12:00:00Z'));
  const { contoso } = await setUp(file, { contoso: 2 });
  const db = openSqlite(file);
  try {
    const directory = new SqliteDirectoryStore(db);
    let policy = buildSnapshot(await directory.load());
    // As serve checks: at most once a second; the clock of the check stands still, so the rename
    // falls inside that second.
    const settings = new TenantSettingsCache(new SqliteTenantSettingsStore(db), { snapshot: async () => policy }, 1000, () => 0);
    const quota = new RecipientQuota({ settings, counters: new SqliteQuotaCounters(db), clock });
    assert.deepEqual(await quota.admit(contoso!), { ok: true });
    const current = await directory.load();
    await directory.replace({ tenants: current.tenants.map((t) => (t.id === contoso!.id ? { ...t, name: 'northwind' } : t)) });
    policy = buildSnapshot(await directory.load());
    const renamed = policy.tenants.find((t) => t.id === contoso!.id)!;
    assert.equal(renamed.name, 'northwind', 'the policy decides under the new name');
    assert.equal((await settings.snapshot()).tenantName(contoso!.id), 'contoso', 'the settings snapshot still has the old one');
    assert.deepEqual(await quota.admit({ id: renamed.id!, name: renamed.name }), { ok: true }, 'the second of the day');
    const refused = await quota.admit({ id: renamed.id!, name: renamed.name });
    assert.equal(!refused.ok && formatReply(refused.reply), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
    assert.equal(!refused.ok && refused.reason, 'daily recipient quota of 2 for tenant northwind reached');
  } finally {
    db.close();
  }
});
