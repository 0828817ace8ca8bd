/** What delivery and the RCPT check read of a data directory's tenant settings: its snapshot. */
import { buildSnapshot } from '../../src/policy/index.js';
import { openSqlite } from '../../src/store/sqlite/database.js';
import { SqliteDirectoryStore } from '../../src/store/sqlite/directory-store.js';
import { SqliteTenantSettingsStore } from '../../src/store/sqlite/tenant-settings-store.js';
import { TenantSettingsCache, type TenantSettingsSnapshot } from '../../src/store/tenant-settings-snapshot.js';

export async function tenantSettingsAt(dbFile: string): Promise<TenantSettingsSnapshot> {
  const db = openSqlite(dbFile);
  try {
    const directory = new SqliteDirectoryStore(db);
    const cache = new TenantSettingsCache(new SqliteTenantSettingsStore(db), { snapshot: async () => buildSnapshot(await directory.load()) });
    return await cache.fresh();
  } finally {
    db.close();
  }
}
