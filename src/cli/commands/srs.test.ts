import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';
import { tenantSettingsAt } from '../../../test/support/tenant-settings.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

test('srs show and set: on by default with the server domain, switched off, given its own rewrite domain and back', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('srs', 'show'), {
      code: 0,
      stdout: 'TENANT    SRS      REWRITE DOMAIN\ndemo      enabled  test.example (server default)\nfabrikam  enabled  test.example (server default)\n',
      stderr: '',
    });
    assert.deepEqual(await s.run('srs', 'set', 'Demo', '--disabled', '--rewrite-domain', 'Bounces.Demo.Example.'), {
      code: 0, stdout: '~ tenant demo: SRS enabled → disabled, rewrite domain test.example (server default) → bounces.demo.example\n', stderr: '',
    });
    assert.deepEqual(await s.run('srs', 'set', 'demo', '--disabled'), { code: 0, stdout: 'no changes\n', stderr: '' });
    assert.deepEqual(await s.run('srs', 'show', 'demo'), { code: 0, stdout: 'TENANT  SRS       REWRITE DOMAIN\ndemo    disabled  bounces.demo.example\n', stderr: '' });

    // What delivery reads: the tenant settings snapshot.
    const settings = await tenantSettingsAt(join(s.dir, 'data', 'relaygate.db'));
    assert.deepEqual(settings.srsOf(settings.tenantId('demo')!), { enabled: false, rewriteDomain: 'bounces.demo.example' });
    assert.deepEqual(settings.rewriteDomains(), ['bounces.demo.example'], 'reverse SRS recognises bounces to the new domain');

    assert.deepEqual(await s.run('srs', 'set', 'demo', '--enabled'), { code: 0, stdout: '~ tenant demo: SRS disabled → enabled\n', stderr: '' });
    assert.deepEqual(await s.run('srs', 'set', 'demo', '--default-domain'), {
      code: 0, stdout: '~ tenant demo: rewrite domain bounces.demo.example → test.example (server default)\n', stderr: '',
    });
    appendFileSync(s.config, 'delivery:\n  srsDomain: srs.relay.example\n');
    assert.deepEqual(JSON.parse((await s.run('srs', 'show', 'demo', '--json')).stdout), {
      tenant: 'demo', enabled: true, rewriteDomain: null, effectiveRewriteDomain: 'srs.relay.example',
    });
    const all = JSON.parse((await s.run('srs', 'show', '--json')).stdout) as Array<{ tenant: string }>;
    assert.deepEqual(all.map((v) => v.tenant), ['demo', 'fabrikam']);
  } finally {
    s.cleanup();
  }
});

test('srs errors: unknown tenant (exit 1), conflicting or missing options and a bad domain (exit 2)', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const fail = async (code: number, stderr: string, ...args: string[]): Promise<void> => {
      assert.deepEqual(await s.run('srs', ...args), { code, stdout: '', stderr }, args.join(' '));
    };
    await fail(1, 'relaygate: tenant nobody does not exist\n', 'show', 'nobody');
    await fail(1, 'relaygate: tenant nobody does not exist\n', 'set', 'nobody', '--disabled');
    await fail(2, 'relaygate: nothing to change: give --enabled, --disabled, --rewrite-domain or --default-domain\n', 'set', 'demo');
    await fail(2, "error: option '--enabled' cannot be used with option '--disabled'\n", 'set', 'demo', '--enabled', '--disabled');
    await fail(2, "error: option '--rewrite-domain <domain>' cannot be used with option '--default-domain'\n", 'set', 'demo', '--rewrite-domain', 'x.example', '--default-domain');
    await fail(2, 'relaygate: --rewrite-domain: not a domain name: "bad_domain"\n', 'set', 'demo', '--rewrite-domain', 'bad_domain');
    assert.equal((await s.run('srs', 'show', 'demo')).stdout, 'TENANT  SRS      REWRITE DOMAIN\ndemo    enabled  test.example (server default)\n');
  } finally {
    s.cleanup();
  }
});
