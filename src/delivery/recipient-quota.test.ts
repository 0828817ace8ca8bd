import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteQuotaStore } from '../store/sqlite/delivery-settings.js';
import { RecipientQuota } from './recipient-quota.js';
import { ManualClock } from '../core/clock.js';
import { formatReply } from '../core/reply.js';

test('a daily recipient quota refuses with a generic 550 5.7.232 (tenant and limit only in the reason), resets the next UTC day and survives a restart', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-quota-')), 'relaygate.db');
  const clock = new ManualClock(new Date('2026-03-02T23:59:00Z'));
  let db = openSqlite(file);
  new SqliteQuotaStore(db).setDailyLimit('contoso', 3);
  let quota = new RecipientQuota(new SqliteQuotaStore(db), clock);
  assert.deepEqual([quota.admit('contoso'), quota.admit('contoso')], [{ ok: true }, { ok: true }]);
  assert.deepEqual(quota.admit('fabrikam'), { ok: true }, 'no limit set: unlimited');
  quota.flush();
  db.close();

  db = openSqlite(file);
  quota = new RecipientQuota(new SqliteQuotaStore(db), clock);
  assert.deepEqual(quota.admit('contoso'), { ok: true }, 'the third of today, counted before the restart');
  const refused = quota.admit('contoso');
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && formatReply(refused.reply), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
  assert.equal(!refused.ok && refused.reason, 'daily recipient quota of 3 for tenant contoso reached');
  clock.advance(60_000);
  assert.deepEqual(quota.admit('contoso'), { ok: true }, 'a new UTC day');
  quota.flush();
  assert.deepEqual(db.prepare('SELECT tenant, day, recipients FROM tenant_recipient_counts ORDER BY tenant, day').all(), [
    { tenant: 'contoso', day: '2026-03-02', recipients: 3 },
    { tenant: 'contoso', day: '2026-03-03', recipients: 1 },
    { tenant: 'fabrikam', day: '2026-03-02', recipients: 1 },
  ]);
  db.close();
});
