import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoDirectory } from '../directory/index.js';
import { RelaygateError } from '../core/errors.js';
import { freshSchema, testDatabase } from '../../test/support/postgres.js';
import { migrations as postgresMigrations } from '../store/postgres/migrations/index.js';
import { openSqliteStores, openStores, postgresOptions } from './stores.js';

const database = testDatabase('stores');

test('openStores creates <dataDir>/relaygate.db with the directory store on it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-stores-'));
  try {
    const dataDir = join(dir, 'nested', 'data');
    const stores = await openStores({ dataDir, store: 'sqlite' });
    try {
      assert.ok(existsSync(join(dataDir, 'relaygate.db')));
      assert.equal(stores.location, join(dataDir, 'relaygate.db'));
      assert.deepEqual(await stores.directory.load(), { tenants: [] });
      assert.equal((await stores.migrations())[0]!.version, 1);
      const second = openSqliteStores({ dataDir });
      const versions = second.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
      await second.close();
      assert.deepEqual((await stores.migrations()).map((m) => m.version), versions.map((v) => v.version));
    } finally {
      await stores.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("relaygate.yaml's postgres block sets this node's pool size and session timeouts", () => {
  assert.deepEqual(postgresOptions({ postgres: { poolSize: 4, statementTimeout: 5_000, idleInTransactionTimeout: 9_000 } }), {
    poolSize: 4,
    statementTimeoutMs: 5_000,
    idleInTransactionTimeoutMs: 9_000,
  });
  assert.deepEqual(postgresOptions({}), {});
});

test('a postgres:// store opens the directory in that database, migrated, and writes nothing to the data directory', async () => {
  const url = await freshSchema(await database);
  const stores = await openStores({
    dataDir: '/nonexistent',
    store: url,
    postgres: { poolSize: 2, statementTimeout: 4_000, idleInTransactionTimeout: 7_000 },
  });
  try {
    assert.equal(stores.location.includes(new URL(url).password), false, 'the password is not shown');
    assert.match(stores.location, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\//);
    assert.deepEqual(await stores.directory.load(), { tenants: [] });
    await stores.directory.replace(demoDirectory);
    assert.deepEqual((await stores.directory.load()).tenants.map((t) => t.name), ['demo', 'fabrikam']);
    assert.deepEqual((await stores.migrations()).map((m) => [m.version, m.name]), postgresMigrations.map((m) => [m.version, m.name]));
    assert.equal(existsSync('/nonexistent'), false, 'nothing is written to the data directory');
  } finally {
    await stores.close();
  }
});

test('a PostgreSQL server that cannot be reached is store-unavailable, and the message hides the password', async () => {
  const server = new URL(await database);
  server.port = '9'; // discard: nothing listens there on 127.0.0.1
  server.password = 's3cret';
  await assert.rejects(openStores({ dataDir: '/nonexistent', store: server.toString() }), (err: unknown) => {
    assert.ok(err instanceof RelaygateError);
    assert.equal(err.code, 'store-unavailable');
    assert.equal(err.message.includes('s3cret'), false);
    assert.match(err.message, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:9\/\S+: connect ECONNREFUSED 127\.0\.0\.1:9$/);
    return true;
  });
});

test('a wrong password is store-unavailable, and the message hides it', async () => {
  const server = new URL(await database);
  server.password = 'not-the-password';
  await assert.rejects(openStores({ dataDir: '/nonexistent', store: server.toString() }), (err: unknown) => {
    assert.ok(err instanceof RelaygateError);
    assert.equal(err.code, 'store-unavailable');
    assert.equal(err.message.includes('not-the-password'), false);
    assert.match(err.message, /password authentication failed for user "postgres"$/);
    return true;
  });
});
