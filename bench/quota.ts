/**
 * The RCPT quota check on a real SQLite file (WAL, synchronous = FULL): µs per admitted recipient
 * for a tenant without a limit (counted in memory), a tenant with one asked one RCPT at a time
 * (one counter statement and commit each), and the same with 50 sessions at once (their
 * statements share a commit). Run alone with `node dist/bench/quota.js`, or from bench/run.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { validateDirectory } from '../src/directory/index.js';
import { buildSnapshot } from '../src/policy/index.js';
import { RecipientQuota } from '../src/smtp/recipient-quota.js';
import { openSqlite } from '../src/store/sqlite/database.js';
import { SqliteDirectoryStore } from '../src/store/sqlite/directory-store.js';
import { SqliteQuotaCounters } from '../src/store/sqlite/quota-counters.js';
import { SqliteTenantSettingsStore } from '../src/store/sqlite/tenant-settings-store.js';
import { TenantSettingsCache } from '../src/store/tenant-settings-snapshot.js';

export interface QuotaBenchResult {
  unlimitedUsPerRcpt: number;
  limitedSequentialUsPerRcpt: number;
  limitedConcurrentUsPerRcpt: number;
  concurrency: number;
}

export async function runQuotaBench(rcpts = 2_000, concurrency = 50): Promise<QuotaBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-bench-quota-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    const directory = new SqliteDirectoryStore(db);
    await directory.replace(validateDirectory({ tenants: [{ name: 'open' }, { name: 'limited' }] }));
    const settings = new SqliteTenantSettingsStore(db);
    const [open, limited] = (await directory.load()).tenants.map((t) => ({ id: t.id, name: t.name }));
    await settings.setDailyLimit(limited!.id, 1_000_000_000);
    const snapshot = buildSnapshot(await directory.load());
    const cache = new TenantSettingsCache(settings, { snapshot: async () => snapshot });
    const quota = new RecipientQuota({ settings: cache, counters: new SqliteQuotaCounters(db), clock: systemClock });
    const time = async (fn: () => Promise<void>): Promise<number> => {
      const t0 = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t0) / 1000 / rcpts;
    };
    const unlimitedUsPerRcpt = await time(async () => {
      for (let i = 0; i < rcpts; i++) await quota.admit(open!);
    });
    const limitedSequentialUsPerRcpt = await time(async () => {
      for (let i = 0; i < rcpts; i++) await quota.admit(limited!);
    });
    const limitedConcurrentUsPerRcpt = await time(async () => {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = 0; i < rcpts / concurrency; i++) await quota.admit(limited!);
        }),
      );
    });
    await quota.stop();
    const round = (n: number): number => Math.round(n * 10) / 10;
    return { unlimitedUsPerRcpt: round(unlimitedUsPerRcpt), limitedSequentialUsPerRcpt: round(limitedSequentialUsPerRcpt), limitedConcurrentUsPerRcpt: round(limitedConcurrentUsPerRcpt), concurrency };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  console.log(JSON.stringify({ bench: 'quota', ...(await runQuotaBench()) }));
}
