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

async function setUp(file: string, limits: Record<string, number>): Promise<void> {
  const db = openSqlite(file);
  const directory = new SqliteDirectoryStore(db);
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
  const settings = new SqliteTenantSettingsStore(db);
  for (const t of (await directory.load()).tenants) {
    const limit = limits[t.name];
    if (limit !== undefined) await settings.setDailyLimit(t.id, limit);
  }
  db.close();
}

test('a daily recipient quota refuses with a generic 550 5.7.232 (tenant and limit only in the reason), resets the next UTC day and survives a restart', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T23:59:00Z'));
  await setUp(file, { contoso: 3 });
  let db = openSqlite(file);
  let quota = quotaOn(db, clock);
  assert.deepEqual([await quota.admit('contoso'), await quota.admit('contoso')], [{ ok: true }, { ok: true }]);
  assert.deepEqual(await quota.admit('fabrikam'), { ok: true }, 'no limit set: unlimited');
  await quota.flush();
  db.close();

  db = openSqlite(file);
  quota = quotaOn(db, clock);
  assert.deepEqual(await quota.admit('contoso'), { ok: true }, 'the third of today, counted before the restart');
  const refused = await quota.admit('contoso');
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && formatReply(refused.reply), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
  assert.equal(!refused.ok && refused.reason, 'daily recipient quota of 3 for tenant contoso reached');
  clock.advance(60_000);
  assert.deepEqual(await quota.admit('contoso'), { ok: true }, 'a new UTC day');
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
  await setUp(file, { contoso: 10 });
  const first = openSqlite(file);
  const second = openSqlite(file);
  try {
    const a = quotaOn(first, clock);
    const b = quotaOn(second, clock);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).admit('contoso')));
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.equal((await a.admit('contoso')).ok, false);
    assert.equal((await b.admit('contoso')).ok, false);
  } finally {
    first.close();
    second.close();
  }
});

test('a limit set during the day starts from what was counted without one', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T12:00:00Z'));
  await setUp(file, {});
  const db = openSqlite(file);
  try {
    const quota = quotaOn(db, clock);
    for (let i = 0; i < 4; i++) assert.deepEqual(await quota.admit('contoso'), { ok: true });
    const settings = new SqliteTenantSettingsStore(db);
    const contoso = (await new SqliteDirectoryStore(db).load()).tenants[0]!;
    await settings.setDailyLimit(contoso.id, 5);
    assert.deepEqual(await quota.admit('CONTOSO'), { ok: true }, 'the fifth; the name in any case');
    const refused = await quota.admit('contoso');
    assert.equal(!refused.ok && formatReply(refused.reply), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
    assert.equal(!refused.ok && refused.reason, 'daily recipient quota of 5 for tenant contoso reached');
    assert.deepEqual(await quota.admit('nobody'), { ok: true }, 'not a tenant: no quota');
  } finally {
    db.close();
  }
});
