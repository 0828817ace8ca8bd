import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../../core/ulid.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { connectorHealthStoreContract, type OpenedConnectorHealthStore } from '../connector-health-contract.js';
import { openPostgres, type PgDatabase } from './database.js';
import { PgConnectorHealthStore } from './connector-health-store.js';
import { PgDirectoryStore } from './directory-store.js';

const database = testDatabase('connector_health');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function openAt(url: string): Promise<OpenedConnectorHealthStore> {
  const pools: PgDatabase[] = [await openPostgres(url, { poolSize: 2 })];
  let closed: Promise<void> | undefined;
  return {
    store: new PgConnectorHealthStore(pools[0]!),
    directory: new PgDirectoryStore(pools[0]!, newId),
    second: async () => {
      const db = await openPostgres(url, { poolSize: 2 });
      pools.push(db);
      return new PgConnectorHealthStore(db);
    },
    close: () => (closed ??= Promise.all(pools.map((p) => p.close())).then(() => undefined)),
    reopen: () => openAt(url),
  };
}

connectorHealthStoreContract('postgres', async () => openAt(await freshSchema(await database)));
