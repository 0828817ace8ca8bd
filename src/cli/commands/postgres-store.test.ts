import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { migrations } from '../../store/postgres/migrations/index.js';
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
    assert.deepEqual(out.migrations.map((m) => [m.version, m.name]), migrations.map((m) => [m.version, m.name]));
    const human = await s.run('migrate');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/\\S+: schema version ${migrations.at(-1)!.version}\n  001 directory \\(applied \\d{4}-\\d\\d-\\d\\dT`));
    for (const r of [json, human]) assert.equal(r.stdout.includes(password) || r.stderr.includes(password), false);
  } finally {
    s.cleanup();
  }
});

test('RELAYGATE_STORE_URL puts the commands on PostgreSQL', async () => {
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
    assert.equal(queue.code, 0, queue.stderr);
    assert.equal(queue.stdout, 'The queue is empty.\n');
    for (const r of [added, exported, queue]) assert.equal(r.stdout.includes(password) || r.stderr.includes(password), false);
  } finally {
    s.cleanup();
  }
});

test('the tenant-settings commands (dkim, route, srs, quota) work on a postgres:// store', async () => {
  const url = await freshSchema(await database);
  const s = cliSandbox();
  try {
    const env = { ...s.env, RELAYGATE_STORE_URL: url };
    const run = async (...args: string[]) => {
      const r = await runCliCaptured([...args, '--config', s.config], { env, cwd: s.dir });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await run('tenant', 'add', 'contoso');
    await run('domain', 'add', 'contoso', 'contoso.com');
    await run('dkim', 'generate', '--tenant', 'contoso', '--domain', 'contoso.com', '--selector', 's1', '--algorithm', 'ed25519');
    await run('route', 'add', 'contoso', '--domain', 'partner.example', '--host', 'smarthost.example:587', '--tls', 'required');
    await run('srs', 'set', 'contoso', '--disabled');
    await run('quota', 'set', 'contoso', '500');
    const keys = JSON.parse(await run('dkim', 'list', '--json')) as Array<{ tenant: string; selector: string }>;
    assert.deepEqual(keys.map((k) => [k.tenant, k.selector]), [['contoso', 's1']]);
    const routes = JSON.parse(await run('route', 'list', '--json')) as Array<{ tenant: string; host: string; port: number }>;
    assert.deepEqual(routes.map((r) => [r.tenant, r.host, r.port]), [['contoso', 'smarthost.example', 587]]);
    assert.match(await run('quota', 'show', 'contoso'), /500/);
    assert.match(await run('srs', 'show', 'contoso'), /off|disabled/i);
  } finally {
    s.cleanup();
  }
});
