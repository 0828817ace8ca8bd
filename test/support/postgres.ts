/**
 * PostgreSQL for the tests: the server named by RELAYGATE_TEST_PG_URL when it is set (any server
 * the tests may create and drop databases on; scripts/run-tests.mjs sets it to one throwaway
 * cluster shared by every test file of the run), otherwise a throwaway cluster started once by this
 * process (postgres-cluster.ts). There is no skip: when neither can be had, every test that asks
 * fails with the reason.
 */
import pg from 'pg';
import { startThrowawayCluster } from './postgres-cluster.js';

let server: Promise<string> | undefined;

/** The admin URL of the test server (started on first use, shared by the process). */
export function testPostgresServer(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  server ??= env.RELAYGATE_TEST_PG_URL ? Promise.resolve(env.RELAYGATE_TEST_PG_URL) : startThrowawayCluster(env).then((c) => c.url);
  return server;
}

export interface TestDatabase {
  /** The URL of the new, empty database (the server's user and password). */
  url: string;
  name: string;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

let sequence = 0;

/** The URL of `server` with its database replaced by `name`. */
export function databaseUrl(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = '/' + encodeURIComponent(name);
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: await testPostgresServer() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new empty database on the test server, named after `label`, this process and a counter. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  const name = `rg_${safe}_${process.pid}_${++sequence}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    url: databaseUrl(await testPostgresServer(), name),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

const suiteDatabases: TestDatabase[] = [];
// Dropped once the file's tests and all their after hooks are done and nothing else is left to
// run (a database asked for inside a hook or a test lives until then, and the hooks that close
// their connections run first).
process.on('beforeExit', () => {
  const dropping = suiteDatabases.splice(0);
  if (dropping.length > 0) void Promise.all(dropping.map((db) => db.drop().catch(() => undefined)));
});

/** A fresh database for the calling test file, dropped when the file's tests are done. */
export async function testDatabase(label: string): Promise<string> {
  const db = await createTestDatabase(label);
  suiteDatabases.push(db);
  return db.url;
}

let schemas = 0;

/**
 * A new empty schema in the database at `url`, and a URL whose sessions work in it (their
 * search_path): cheaper than a database per test when a contract suite wants an empty store for
 * every test. Goes with the database.
 */
export async function freshSchema(url: string): Promise<string> {
  const name = `s${++schemas}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${name}`);
  return u.toString();
}
