import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliSandbox } from '../testing.js';
import { openSqliteStores } from '../../app/stores.js';
import { TokenService } from '../../access/tokens.js';
import { systemClock } from '../../core/clock.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));
const TOKEN = /^rg_[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9_-]{43}$/;

test('token create prints the token once; the store keeps only its SHA-256; it authenticates as what was asked', async () => {
  const s = cliSandbox();
  try {
    assert.equal((await s.run('apply', '-f', DEMO)).code, 0);
    const admin = await s.run('token', 'create', '--admin', '--name', 'ops', '--json');
    assert.equal(admin.code, 0, admin.stderr);
    const created = JSON.parse(admin.stdout) as { token: string; id: string; name: string; role: string; scope: string; tenant: null; expiresAt: null; state: string };
    assert.match(created.token, TOKEN);
    assert.deepEqual({ ...created, token: undefined, id: undefined, createdAt: undefined }, {
      token: undefined, id: undefined, createdAt: undefined,
      name: 'ops', role: 'admin', tenant: null, tenantId: null, scope: 'write', expiresAt: null, revokedAt: null, createdBy: null, state: 'active',
    });

    const tenant = await s.run('token', 'create', '--tenant', 'DEMO', '--scope', 'read', '--expires', '90d');
    assert.equal(tenant.code, 0, tenant.stderr);
    const [line, text] = tenant.stdout.trimEnd().split('\n') as [string, string];
    assert.match(line, /^\+ token [0-9A-Z]{26} "demo read": tenant demo, read, expires \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.match(text, TOKEN);
    assert.equal(tenant.stderr, 'relaygate: the token is shown only now: keep it somewhere safe (Authorization: Bearer <token>)\n');

    const db = new Database(join(s.dir, 'data', 'relaygate.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, secret_hash FROM admin_tokens ORDER BY id').all() as Array<{ id: string; secret_hash: string }>;
      assert.equal(rows.length, 2);
      const dump = JSON.stringify(db.prepare('SELECT * FROM admin_tokens').all());
      assert.ok(!dump.includes(created.token.slice(30)) && !dump.includes(text.slice(30)), 'no secret is stored');
      const row = rows.find((r) => r.id === created.id)!;
      assert.equal(row.secret_hash, createHash('sha256').update(created.token.slice(30)).digest('hex'));
    } finally {
      db.close();
    }

    const stores = openSqliteStores({ dataDir: join(s.dir, 'data') });
    try {
      const service = new TokenService({ tokens: stores.tokens, directory: stores.directory, clock: systemClock });
      const p = await service.authenticate(text);
      assert.equal(p.role, 'tenant');
      assert.equal(p.scope, 'read');
      assert.equal(p.tenantId, (await stores.directory.load()).tenants.find((t) => t.name === 'demo')!.id);
      assert.equal((await service.authenticate(created.token)).role, 'admin');
    } finally {
      await stores.close();
    }
  } finally {
    s.cleanup();
  }
});

test('token list shows no secret; token revoke stops a token; bad options are exit 2, unknown ids and tenants exit 1', async () => {
  const s = cliSandbox();
  try {
    assert.equal((await s.run('apply', '-f', DEMO)).code, 0);
    const a = JSON.parse((await s.run('token', 'create', '--admin', '--scope', 'read', '--name', 'viewer', '--json')).stdout) as { id: string; token: string };
    const b = JSON.parse((await s.run('token', 'create', '--tenant', 'fabrikam', '--json')).stdout) as { id: string; token: string };
    const list = await s.run('token', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^ID +NAME +ROLE +TENANT +SCOPE +EXPIRES +STATE\\n${a.id} +viewer +admin +- +read +never +active\\n${b.id} +fabrikam write +tenant +fabrikam +write +never +active\\n$`));
    assert.ok(!list.stdout.includes(a.token.slice(30)));
    const json = JSON.parse((await s.run('token', 'list', '--tenant', 'FABRIKAM', '--json')).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(json.map((t) => t.id), [b.id]);
    assert.ok(json.every((t) => !('token' in t) && !('secretHash' in t)));

    const revoked = await s.run('token', 'revoke', b.id.toLowerCase());
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^- token ${b.id} "fabrikam write": tenant fabrikam, write, no expiry: revoked\\n$`));
    assert.match((await s.run('token', 'revoke', b.id)).stdout, new RegExp(`^token ${b.id} was already revoked at \\d{4}-`));
    assert.match((await s.run('token', 'list')).stdout, new RegExp(`${b.id} .* revoked\\n$`));

    const cases: Array<[string[], number, string]> = [
      [['token', 'create'], 2, 'relaygate: give either --admin or --tenant NAME\n'],
      [['token', 'create', '--admin', '--tenant', 'demo'], 2, 'relaygate: give either --admin or --tenant NAME\n'],
      [['token', 'create', '--admin', '--scope', 'all'], 2, 'relaygate: --scope: expected read or write, got "all"\n'],
      [['token', 'create', '--admin', '--expires', '90'], 2, 'relaygate: --expires: expected a duration such as 90d or 12h, got "90"\n'],
      [['token', 'create', '--admin', '--expires', '0d'], 2, 'relaygate: --expires: expected a duration such as 90d or 12h, got "0d"\n'],
      [['token', 'create', '--admin', '--name', 'x'.repeat(101)], 2, 'relaygate: --name: must be at most 100 printable characters\n'],
      [['token', 'create', '--tenant', 'nobody'], 1, 'relaygate: tenant nobody does not exist\n'],
      [['token', 'list', '--tenant', 'nobody'], 1, 'relaygate: tenant nobody does not exist\n'],
      [['token', 'revoke', '01KDVDNA00ZZZZZZZZZZZZZZZZ'], 1, 'relaygate: token 01KDVDNA00ZZZZZZZZZZZZZZZZ does not exist\n'],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await s.run(...args);
      assert.deepEqual({ code: r.code, stderr: r.stderr, stdout: r.stdout }, { code, stderr, stdout: '' }, args.join(' '));
    }
    assert.equal((JSON.parse((await s.run('token', 'list', '--json')).stdout) as unknown[]).length, 2, 'nothing was created by the refused commands');
  } finally {
    s.cleanup();
  }
});
