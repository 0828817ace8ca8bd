import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { appliedMigrations, migrate, openPostgres } from './database.js';
import { migrations } from './migrations/index.js';

const database = testDatabase('database');

test("relaygate's sessions carry the statement and idle-in-transaction timeouts it was given", async () => {
  const db = await openPostgres(await freshSchema(await database), { statementTimeoutMs: 1500, idleInTransactionTimeoutMs: 2500 });
  try {
    const settings = await db.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout') ORDER BY name",
    );
    assert.deepEqual(settings.rows, [
      { name: 'idle_in_transaction_session_timeout', setting: '2500' },
      { name: 'statement_timeout', setting: '1500' },
    ]);
  } finally {
    await db.close();
  }
});

test('a statement that runs past the statement timeout is cancelled', async () => {
  const db = await openPostgres(await freshSchema(await database), { statementTimeoutMs: 100 });
  try {
    await assert.rejects(db.query('SELECT pg_sleep(5)'), (err: Error & { code?: string }) => {
      assert.equal(err.code, '57014'); // query_canceled
      assert.match(err.message, /statement timeout/);
      return true;
    });
  } finally {
    await db.close();
  }
});

test('a session left idle inside a transaction is ended by the server, and its transaction rolled back', async () => {
  const url = await freshSchema(await database);
  const db = await openPostgres(url, { idleInTransactionTimeoutMs: 200 });
  try {
    await db.query('CREATE TABLE t (x int)');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (1)');
        await sleep(600); // a node paused mid-transaction
        await tx.query('INSERT INTO t VALUES (2)');
      }),
      /idle-in-transaction timeout|not queryable|Connection terminated/,
    );
    assert.deepEqual((await db.query('SELECT count(*)::int AS n FROM t')).rows, [{ n: 0 }]);
  } finally {
    await db.close();
  }
});

test('a pool never opens more sessions than its size', async () => {
  const url = await freshSchema(await database);
  const db = await openPostgres(url, { poolSize: 3, applicationName: 'relaygate-pool-test' });
  try {
    let most = 0;
    const watch = new pg.Client({ connectionString: await database });
    await watch.connect();
    const work = Promise.all(Array.from({ length: 9 }, () => db.query('SELECT pg_sleep(0.1)')));
    for (let i = 0; i < 5; i++) {
      const { rows } = await watch.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'relaygate-pool-test'",
      );
      most = Math.max(most, rows[0]!.n);
      await sleep(40);
    }
    await work;
    await watch.end();
    assert.equal(most, 3);
  } finally {
    await db.close();
  }
});

test('nodes starting at once apply each migration exactly once', async () => {
  const url = await freshSchema(await database);
  const nodes = await Promise.all([1, 2, 3].map(() => openPostgres(url, { poolSize: 2 })));
  try {
    const applied = await appliedMigrations(nodes[0]!);
    assert.deepEqual(
      applied.map((m) => [m.version, m.name]),
      migrations.map((m) => [m.version, m.name]),
    );
    assert.match(applied[0]!.appliedAt, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(await migrate(nodes[1]!), [], 'nothing is left to apply');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('a migration that fails leaves the schema as it was and is not recorded', async () => {
  const url = await freshSchema(await database);
  const db = await openPostgres(url, { poolSize: 1 });
  try {
    const broken = { version: 9999, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT no_such_function();' };
    await assert.rejects(migrate(db, [...migrations, broken]), /no_such_function/);
    assert.deepEqual((await db.query("SELECT to_regclass('half') AS t")).rows, [{ t: null }]);
    assert.equal((await appliedMigrations(db)).length, migrations.length);
    assert.deepEqual((await db.query('SELECT 1 AS ok')).rows, [{ ok: 1 }], 'the pool still works');
  } finally {
    await db.close();
  }
});
