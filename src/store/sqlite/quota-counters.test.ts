import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { validateDirectory } from '../../directory/index.js';
import { quotaCountersContract } from '../quota-counters-contract.js';
import { openSqlite } from './database.js';
import { SqliteDirectoryStore } from './directory-store.js';
import { SqliteQuotaCounters } from './quota-counters.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-counters-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

quotaCountersContract('sqlite', async () => {
  const file = join(root, `case-${++n}`, 'relaygate.db');
  const db = openSqlite(file);
  const other = openSqlite(file);
  return {
    directory: new SqliteDirectoryStore(db),
    counters: new SqliteQuotaCounters(db),
    second: new SqliteQuotaCounters(other),
    close: async () => {
      db.close();
      other.close();
    },
  };
});

/** Adds one at a time against the limit in a thread of its own, as another process would. */
function adderThread(file: string, tenantId: string, attempts: number, limit: number): Promise<number> {
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     import(workerData.counters).then(async ({ SqliteQuotaCounters }) => {
       const { openSqlite } = await import(workerData.database);
       const db = openSqlite(workerData.file);
       const counters = new SqliteQuotaCounters(db);
       let ok = 0;
       for (let i = 0; i < workerData.attempts; i++) if ((await counters.add(workerData.tenantId, '2026-03-02', 1, workerData.limit)).ok) ok++;
       db.close();
       parentPort.postMessage(ok);
     });`,
    {
      eval: true,
      workerData: {
        file, tenantId, attempts, limit,
        counters: new URL('./quota-counters.js', import.meta.url).href,
        database: new URL('./database.js', import.meta.url).href,
      },
    },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (ok: number) => resolve(ok));
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`adder exited with ${code}`))));
  });
}

test('sqlite quota counters: four threads adding to one file at once count exactly up to the limit', async () => {
  const file = join(root, 'threads', 'relaygate.db');
  const db = openSqlite(file);
  try {
    const directory = new SqliteDirectoryStore(db);
    await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }] }));
    const id = (await directory.load()).tenants[0]!.id;
    const accepted = await Promise.all([0, 1, 2, 3].map(() => adderThread(file, id, 150, 300)));
    assert.equal(accepted.reduce((a, b) => a + b, 0), 300, `accepted per thread: ${accepted.join(', ')}`);
    assert.equal(await new SqliteQuotaCounters(db).count(id, '2026-03-02'), 300);
  } finally {
    db.close();
  }
});
