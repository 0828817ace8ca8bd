import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { cliSandbox, runCliCaptured } from '../testing.js';

const database = testDatabase('cli');

test('migrate against a postgres:// store applies the migrations and names the database without its password', async () => {
  const url = await freshSchema(await database);
  const password = new URL(url).password;
  const s = cliSandbox();
  try {
    writeFileSync(s.config, `hostname: test.example\ndataDir: ./data\nstore: "${url}"\npostgres: { poolSize: 2 }\n`);
    const json = await s.run('migrate', '--json');
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { database: string; migrations: Array<{ version: number; name: string; appliedAt: string }> };
    assert.match(out.database, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/rg_cli_/);
    assert.deepEqual(out.migrations.map((m) => [m.version, m.name]), [[1, 'directory']]);
    const human = await s.run('migrate');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\S+: schema version 1\n  001 directory \(applied \d{4}-\d\d-\d\dT/);
    for (const r of [json, human]) assert.equal(r.stdout.includes(password) || r.stderr.includes(password), false);
  } finally {
    s.cleanup();
  }
});

test('RELAYGATE_STORE_URL puts the directory commands on PostgreSQL; a command whose port is not there yet exits 2 and says so', async () => {
  const url = await freshSchema(await database);
  const password = new URL(url).password;
  const s = cliSandbox();
  try {
    const env = { ...s.env, RELAYGATE_STORE_URL: url };
    const run = (...args: string[]) => runCliCaptured([...args, '--config', s.config], { env, cwd: s.dir });
    const added = await run('tenant', 'add', 'contoso');
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await run('domain', 'add', 'contoso', 'contoso.com')).code, 0);
    const exported = await run('export');
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /- name: contoso\n {4}id: [0-9A-Z]{26}\n[\s\S]*domain: contoso\.com/);
    const onSqlite = await s.run('export');
    assert.doesNotMatch(onSqlite.stdout, /contoso/, 'the sandbox file still names sqlite: the variable won');
    const queue = await run('queue', 'list');
    assert.equal(queue.code, 2);
    assert.match(queue.stderr, /^relaygate: store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\S+: the queue is not on PostgreSQL yet: use "sqlite"\n$/);
    for (const r of [added, exported, queue]) assert.equal(r.stdout.includes(password) || r.stderr.includes(password), false);
  } finally {
    s.cleanup();
  }
});
