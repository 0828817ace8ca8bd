import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../../core/ulid.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { accessStoresContract, type OpenedAccessStores } from '../access-contract.js';
import { PgAuditLog, PgTokenStore } from './access-stores.js';
import { openPostgres } from './database.js';
import { PgDirectoryStore } from './directory-store.js';

const database = testDatabase('access');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function openAt(url: string): Promise<OpenedAccessStores> {
  const db = await openPostgres(url, { poolSize: 2 });
  let closed: Promise<void> | undefined;
  return {
    directory: new PgDirectoryStore(db, newId),
    tokens: new PgTokenStore(db),
    audit: new PgAuditLog(db),
    close: () => (closed ??= db.close()),
    reopen: () => openAt(url),
  };
}

accessStoresContract('postgres', async () => openAt(await freshSchema(await database)));
