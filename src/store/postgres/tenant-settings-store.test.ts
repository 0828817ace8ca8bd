import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../../core/ulid.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { tenantSettingsContract, type OpenedTenantSettings } from '../tenant-settings-contract.js';
import { openPostgres } from './database.js';
import { PgDirectoryStore } from './directory-store.js';
import { PgTenantSettingsStore } from './tenant-settings-store.js';

const database = testDatabase('settings');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function openAt(url: string): Promise<OpenedTenantSettings> {
  const db = await openPostgres(url, { poolSize: 2 });
  let closed: Promise<void> | undefined;
  return {
    directory: new PgDirectoryStore(db, newId),
    settings: new PgTenantSettingsStore(db),
    close: () => (closed ??= db.close()),
    reopen: () => openAt(url),
  };
}

tenantSettingsContract('postgres', async () => openAt(await freshSchema(await database)));
