import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStores } from '../app/stores.js';
import { traceSearchSuite } from '../../test/support/trace-search-suite.js';

// 100,000 messages (about 360,000 events) on a real SQLite file.
traceSearchSuite('sqlite trace search', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaygate-trace-search-'));
  const stores = openSqliteStores({ dataDir });
  return {
    trace: stores.trace,
    directory: stores.directory,
    close: async () => {
      await stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}, 100_000);
