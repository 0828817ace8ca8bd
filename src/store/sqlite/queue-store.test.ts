import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decisionStoreContract } from '../decisions-contract.js';
import { queueAdminStoreContract } from '../queue-admin-contract.js';
import { traceStoreContract } from '../trace-contract.js';
import { queueStoreContract } from '../queue-contract.js';
import { queueStatsStoreContract, type OpenedQueueWithStats } from '../queue-stats-contract.js';
import { openSqlite } from './database.js';
import { SqliteDecisionStore } from './decision-store.js';
import { SqliteDirectoryStore } from './directory-store.js';
import { SqliteQueueAdminStore } from './queue-admin-store.js';
import { SqliteQueueStatsStore } from './queue-stats.js';
import { SqliteQueueStore } from './queue-store.js';
import { SqliteTraceStore } from './trace-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-queuestore-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(file: string): OpenedQueueWithStats {
  const db = openSqlite(file);
  return {
    queue: new SqliteQueueStore(db),
    admin: new SqliteQueueAdminStore(db),
    stats: new SqliteQueueStatsStore(db),
    decisions: new SqliteDecisionStore(db),
    trace: new SqliteTraceStore(db),
    directory: new SqliteDirectoryStore(db),
    close: async () => {
      if (db.open) db.close();
    },
    reopen: async () => openAt(file),
    another: async () => openAt(file),
  };
}

const fresh = async (): Promise<OpenedQueueWithStats> => openAt(join(root, `case-${++n}`, 'relaygate.db'));
queueStoreContract('sqlite', fresh);
queueAdminStoreContract('sqlite', fresh);
decisionStoreContract('sqlite', fresh);
traceStoreContract('sqlite', fresh);
queueStatsStoreContract('sqlite', fresh);
