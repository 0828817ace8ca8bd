import { randomBytes } from 'node:crypto';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { ulidGenerator } from '../../core/ulid.js';
import { queueStatsStoreContract, type OpenedQueueWithStats } from '../queue-stats-contract.js';
import { openPostgres } from './database.js';
import { PgDecisionStore } from './decision-store.js';
import { PgDirectoryStore } from './directory-store.js';
import { PgQueueAdminStore } from './queue-admin-store.js';
import { PgQueueStatsStore } from './queue-stats.js';
import { PgQueueStore } from './queue-store.js';
import { PgTraceStore } from './trace-store.js';

const database = testDatabase('queue_stats');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function openAt(url: string): Promise<OpenedQueueWithStats> {
  const db = await openPostgres(url, { poolSize: 2 });
  let closed: Promise<void> | undefined;
  return {
    queue: new PgQueueStore(db),
    admin: new PgQueueAdminStore(db),
    stats: new PgQueueStatsStore(db),
    decisions: new PgDecisionStore(db),
    trace: new PgTraceStore(db),
    directory: new PgDirectoryStore(db, newId),
    close: () => (closed ??= db.close()),
    reopen: () => openAt(url),
    another: () => openAt(url),
  };
}

queueStatsStoreContract('postgres', async () => openAt(await freshSchema(await database)));
