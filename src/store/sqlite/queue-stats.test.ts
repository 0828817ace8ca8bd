import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queueStatsStoreContract, type OpenedQueueWithStats } from '../queue-stats-contract.js';
import { openSqlite } from './database.js';
import { SqliteDecisionStore } from './decision-store.js';
import { SqliteDirectoryStore } from './directory-store.js';
import { SqliteQueueAdminStore } from './queue-admin-store.js';
import { SqliteQueueStatsStore } from './queue-stats.js';
import { SqliteQueueStore } from './queue-store.js';
import { SqliteTraceStore } from './trace-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-queuestats-'));
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

queueStatsStoreContract('sqlite', async () => openAt(join(root, `case-${++n}`, 'relaygate.db')));
