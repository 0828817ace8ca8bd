import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { srsMintedStoreContract, type OpenedSrsMintedStore } from '../srs-minted-contract.js';
import { openPostgres, type PgDatabase } from './database.js';
import { PgSrsMintedStore } from './srs-minted-store.js';

const database = testDatabase('srs_minted');

async function openAt(url: string): Promise<OpenedSrsMintedStore> {
  const pools: PgDatabase[] = [await openPostgres(url, { poolSize: 2 })];
  let closed: Promise<void> | undefined;
  return {
    store: new PgSrsMintedStore(pools[0]!),
    second: async () => {
      const db = await openPostgres(url, { poolSize: 2 });
      pools.push(db);
      return new PgSrsMintedStore(db);
    },
    close: () => (closed ??= Promise.all(pools.map((p) => p.close())).then(() => undefined)),
    reopen: () => openAt(url),
  };
}

srsMintedStoreContract('postgres', async () => openAt(await freshSchema(await database)));
