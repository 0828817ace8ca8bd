import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';
import { openSqlite } from '../../store/sqlite/database.js';
import { SqliteQuotaCounters } from '../../store/sqlite/quota-counters.js';
import { RecipientQuota } from '../../smtp/recipient-quota.js';
import { ManualClock } from '../../core/clock.js';
import { demoDirectory } from '../../directory/index.js';
import { tenantSettingsAt } from '../../../test/support/tenant-settings.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

test("quota set and show: the limit the RCPT check enforces, and today's count", async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    // The same count for today and tomorrow, so the test holds even if the command runs past midnight UTC.
    const before = new Date();
    const days = [utcDay(before), utcDay(new Date(before.getTime() + 86_400_000))];
    const db = openSqlite(join(s.dir, 'data', 'relaygate.db'));
    const counters = new SqliteQuotaCounters(db);
    for (const day of days) await counters.add(demoDirectory.tenants[0]!.id, day, 7, null);
    db.close();

    assert.deepEqual(await s.run('quota', 'set', 'DEMO', '500'), { code: 0, stdout: '~ tenant demo: daily recipient limit unlimited → 500\n', stderr: '' });
    assert.deepEqual(await s.run('quota', 'set', 'demo', '500'), { code: 0, stdout: 'no changes\n', stderr: '' });
    assert.deepEqual(await s.run('quota', 'set', 'fabrikam', '0'), { code: 0, stdout: '~ tenant fabrikam: daily recipient limit unlimited → 0\n', stderr: '' });

    const shown = await s.run('quota', 'show');
    assert.equal(shown.code, 0, shown.stderr);
    const day = /^TENANT {4}DAILY LIMIT {2}TODAY \((\d{4}-\d\d-\d\d) UTC\)\n/.exec(shown.stdout)?.[1];
    assert.ok(day !== undefined && days.includes(day), shown.stdout);
    assert.equal(shown.stdout, `TENANT    DAILY LIMIT  TODAY (${day} UTC)\ndemo      500          7\nfabrikam  0            0\n`);
    const one = JSON.parse((await s.run('quota', 'show', 'demo', '--json')).stdout) as { day: string };
    assert.ok(days.includes(one.day));
    assert.deepEqual(one, { tenant: 'demo', dailyLimit: 500, day: one.day, recipients: 7 });
    const all = JSON.parse((await s.run('quota', 'show', '--json')).stdout) as Array<{ tenant: string; dailyLimit: number | null }>;
    assert.deepEqual(all.map((q) => [q.tenant, q.dailyLimit]), [['demo', 500], ['fabrikam', 0]]);

    // The check at RCPT TO reads the same store: fabrikam's 0 refuses the first recipient.
    const check = openSqlite(join(s.dir, 'data', 'relaygate.db'));
    const settings = await tenantSettingsAt(join(s.dir, 'data', 'relaygate.db'));
    const quota = new RecipientQuota({ settings: { snapshot: async () => settings }, counters: new SqliteQuotaCounters(check), clock: new ManualClock(new Date('2026-03-02T12:00:00Z')) });
    const tenant = (name: string) => ({ id: settings.tenantId(name)!, name });
    assert.equal((await quota.admit(tenant('fabrikam'))).ok, false);
    assert.equal((await quota.admit(tenant('demo'))).ok, true);
    check.close();

    assert.deepEqual(await s.run('quota', 'set', 'fabrikam', 'Unlimited'), { code: 0, stdout: '~ tenant fabrikam: daily recipient limit 0 → unlimited\n', stderr: '' });
    assert.match((await s.run('quota', 'show', 'fabrikam')).stdout, /\nfabrikam  unlimited {4}0\n$/);
  } finally {
    s.cleanup();
  }
});

test('quota errors: unknown tenant (exit 1), a limit that is not a number or "unlimited" (exit 2)', async () => {
  const s = cliSandbox();
  try {
    assert.deepEqual(await s.run('quota', 'show'), { code: 0, stdout: 'no tenants\n', stderr: '' });
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('quota', 'show', 'nobody'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    assert.deepEqual(await s.run('quota', 'set', 'nobody', '5'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    for (const bad of ['-1', '1.5', 'ten', '', '1e3', '9999999999999999']) {
      assert.deepEqual(await s.run('quota', 'set', 'demo', bad), {
        code: 2, stdout: '', stderr: `relaygate: LIMIT: expected a whole number of recipients per day (0 or more) or "unlimited", got ${JSON.stringify(bad)}\n`,
      }, bad);
    }
    assert.deepEqual(await s.run('quota', 'set', 'demo'), { code: 2, stdout: '', stderr: "error: missing required argument 'limit'\n" });
    assert.match((await s.run('quota', 'show', 'demo')).stdout, /\ndemo    unlimited {4}0\n$/);
  } finally {
    s.cleanup();
  }
});
