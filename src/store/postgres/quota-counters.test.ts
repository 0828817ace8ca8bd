import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../../core/ulid.js';
import { validateDirectory } from '../../directory/index.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { quotaCountersContract } from '../quota-counters-contract.js';
import { openPostgres } from './database.js';
import { PgDirectoryStore } from './directory-store.js';
import { PgQuotaCounters } from './quota-counters.js';
import { PgServerSecrets } from './server-secrets.js';

const database = testDatabase('counters');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

quotaCountersContract('postgres', async () => {
  const url = await freshSchema(await database);
  const db = await openPostgres(url, { poolSize: 2 });
  const other = await openPostgres(url, { poolSize: 2 });
  return {
    directory: new PgDirectoryStore(db, newId),
    counters: new PgQuotaCounters(db),
    second: new PgQuotaCounters(other),
    close: async () => {
      await db.close();
      await other.close();
    },
  };
});

test('postgres quota counters: four nodes adding at once, each with its own pool, count exactly up to the limit', async () => {
  const url = await freshSchema(await database);
  const nodes = await Promise.all([0, 1, 2, 3].map(() => openPostgres(url, { poolSize: 4 })));
  try {
    const directory = new PgDirectoryStore(nodes[0]!, newId);
    await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }] }));
    const id = (await directory.load()).tenants[0]!.id;
    // Each node runs four sessions' worth of adds at once: 4 × 4 × 25 = 400 attempts for 300.
    const accepted = await Promise.all(
      nodes.flatMap((db) => {
        const counters = new PgQuotaCounters(db);
        return [0, 1, 2, 3].map(async () => {
          let ok = 0;
          for (let i = 0; i < 25; i++) if ((await counters.add(id, '2026-03-02', 1, 300)).ok) ok++;
          return ok;
        });
      }),
    );
    assert.equal(accepted.reduce((a, b) => a + b, 0), 300, `accepted per session: ${accepted.join(', ')}`);
    assert.equal(await new PgQuotaCounters(nodes[3]!).count(id, '2026-03-02'), 300);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('postgres server secrets: made once, the same for every node, also when they ask at once', async () => {
  const url = await freshSchema(await database);
  const nodes = await Promise.all([0, 1, 2].map(() => openPostgres(url, { poolSize: 2 })));
  try {
    const secrets = await Promise.all(nodes.map((db) => new PgServerSecrets(db).secret('srs', 1000)));
    assert.equal(new Set(secrets).size, 1);
    assert.match(secrets[0]!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await new PgServerSecrets(nodes[0]!).secret('srs', 2000), secrets[0]);
    assert.notEqual(await new PgServerSecrets(nodes[1]!).secret('other', 2000), secrets[0]);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});
