import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, testDatabase } from './postgres.js';
import { waitFor } from './wait-for.js';

const clusterModule = new URL('./postgres-cluster.js', import.meta.url).href;
const supportModule = new URL('./postgres.js', import.meta.url).href;

/** This process's environment without the shared server, so a child has to start its own. */
function ownClusterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.RELAYGATE_TEST_PG_URL;
  delete env.NODE_TEST_CONTEXT; // a child `node --test` of a test file would run nothing
  return env;
}

interface Child {
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

function node(args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
    output: () => out,
    kill: (signal) => child.kill(signal),
  };
}

/** Starts a cluster in a child that prints `CLUSTER <dir> <url>` and then runs `then`. */
function clusterChild(then: string): Child {
  const code = `
    const { startThrowawayCluster } = await import(${JSON.stringify(clusterModule)});
    const c = await startThrowawayCluster();
    console.log('CLUSTER', c.dir, c.url);
    ${then}`;
  return node(['--input-type=module', '-e', code], ownClusterEnv());
}

async function refused(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

async function clusterOf(child: Child): Promise<{ dir: string; url: string }> {
  const line = await waitFor(() => /CLUSTER (\S+) (\S+)/.exec(child.output()), {
    message: () => `the child to start a cluster; it wrote: ${child.output()}`,
    timeoutMs: 60_000,
  });
  return { dir: line[1]!, url: line[2]! };
}

test('a suite gets its own empty database on 127.0.0.1, which it can use', async () => {
  const url = await testDatabase('support');
  assert.equal(new URL(url).hostname, '127.0.0.1');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
    assert.equal(rows[0]!.n, '0');
    await client.query('CREATE TABLE t (x int)');
  } finally {
    await client.end();
  }
});

test('two databases are separate, and a dropped one is gone', async () => {
  const a = await createTestDatabase('a');
  const b = await createTestDatabase('b');
  try {
    assert.notEqual(a.url, b.url);
    const ca = new pg.Client({ connectionString: a.url });
    await ca.connect();
    await ca.query('CREATE TABLE only_in_a (x int)');
    const cb = new pg.Client({ connectionString: b.url });
    await cb.connect();
    const { rows } = await cb.query("SELECT 1 FROM pg_tables WHERE tablename = 'only_in_a'");
    assert.equal(rows.length, 0);
    await cb.end();
    // ca is still connected: drop closes it.
    ca.on('error', () => {});
    await a.drop();
    await assert.rejects(new pg.Client({ connectionString: a.url }).connect(), /does not exist/);
  } finally {
    await a.drop();
    await b.drop();
  }
});

test('a throwaway cluster is stopped and removed when its process fails with an exception', async () => {
  const child = clusterChild("throw new Error('the test failed');");
  const { dir, url } = await clusterOf(child);
  const { code } = await child.done;
  assert.equal(code, 1);
  assert.match(child.output(), /the test failed/);
  assert.equal(existsSync(dir), false, `${dir} is removed`);
  assert.equal(await refused(url), true, 'the server no longer listens');
});

test('a throwaway cluster is stopped and removed when its process is killed with SIGKILL', async () => {
  const child = clusterChild('setInterval(() => {}, 1000);');
  const { dir, url } = await clusterOf(child);
  assert.equal(await refused(url), false, 'the server runs while its owner does');
  child.kill('SIGKILL');
  await child.done;
  await waitFor(() => !existsSync(dir), { message: `the watchdog to remove ${dir}`, timeoutMs: 20_000 });
  assert.equal(await refused(url), true, 'the server no longer listens');
});

test('without a PostgreSQL a suite that needs one fails with the reason: it is never skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-nopg-'));
  try {
    const file = join(dir, 'needs-postgres.test.mjs');
    writeFileSync(
      file,
      `import { test } from 'node:test';
       import { testDatabase } from ${JSON.stringify(supportModule)};
       test('uses postgres', async () => { await testDatabase('x'); });`,
    );
    const child = node(['--test', file], ownClusterEnv({ RELAYGATE_TEST_PG_BINDIR: join(dir, 'no-such-bin') }));
    const { code } = await child.done;
    assert.equal(code, 1, child.output());
    assert.match(child.output(), /no PostgreSQL for the tests: RELAYGATE_TEST_PG_BINDIR=\S+ has no initdb and pg_ctl/);
    assert.match(child.output(), /# fail 1/);
    assert.match(child.output(), /# skipped 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
