import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStores } from '../app/stores.js';
import { freshSchema, testDatabase } from '../../test/support/postgres.js';
import { traceSearchSuite } from '../../test/support/trace-search-suite.js';

const database = testDatabase('trace_search');

// 20,000 messages (about 65,000 events) on a real PostgreSQL: the same checks as on SQLite's 100,000
// (trace-search.test.ts), on a history small enough for the suite's time on two cores.
traceSearchSuite('postgres trace search', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaygate-trace-search-pg-'));
  const stores = await openStores({ dataDir, store: await freshSchema(await database) });
  return {
    trace: stores.trace,
    directory: stores.directory,
    close: async () => {
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}, 20_000);
