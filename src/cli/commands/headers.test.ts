import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';
import { tenantSettingsAt } from '../../../test/support/tenant-settings.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

test('headers show and set: relayed mail strips X-Relaygate-* by default, a tenant can keep them and go back', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('headers', 'show'), { code: 0, stdout: 'TENANT    RELAYED\ndemo      strip\nfabrikam  strip\n', stderr: '' });
    assert.deepEqual(await s.run('headers', 'set', 'Demo', '--relayed', 'keep'), {
      code: 0, stdout: '~ tenant demo: X-Relaygate-* on relayed mail strip → keep\n', stderr: '',
    });
    assert.deepEqual(await s.run('headers', 'set', 'demo', '--relayed', 'keep'), { code: 0, stdout: 'no changes\n', stderr: '' });
    assert.deepEqual(await s.run('headers', 'show', 'demo'), { code: 0, stdout: 'TENANT  RELAYED\ndemo    keep\n', stderr: '' });

    // What delivery reads: the tenant settings snapshot.
    const settings = await tenantSettingsAt(join(s.dir, 'data', 'relaygate.db'));
    assert.deepEqual(['demo', 'fabrikam'].map((t) => settings.keepsRelayedHeaders(settings.tenantId(t)!)), [true, false]);

    assert.deepEqual(JSON.parse((await s.run('headers', 'show', '--json')).stdout), [{ tenant: 'demo', keep: true }, { tenant: 'fabrikam', keep: false }]);
    assert.deepEqual(await s.run('headers', 'set', 'demo', '--relayed', 'strip'), {
      code: 0, stdout: '~ tenant demo: X-Relaygate-* on relayed mail keep → strip\n', stderr: '',
    });
    assert.deepEqual(JSON.parse((await s.run('headers', 'show', 'demo', '--json')).stdout), { tenant: 'demo', keep: false });
  } finally {
    s.cleanup();
  }
});

test('headers errors: unknown tenant (exit 1), a missing or bad --relayed (exit 2), and nothing changes', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const fail = async (code: number, stderr: string, ...args: string[]): Promise<void> => {
      assert.deepEqual(await s.run('headers', ...args), { code, stdout: '', stderr }, args.join(' '));
    };
    await fail(1, 'relaygate: tenant nobody does not exist\n', 'show', 'nobody');
    await fail(1, 'relaygate: tenant nobody does not exist\n', 'set', 'nobody', '--relayed', 'keep');
    await fail(2, "error: required option '--relayed <choice>' not specified\n", 'set', 'demo');
    await fail(2, "error: option '--relayed <choice>' argument 'maybe' is invalid. Allowed choices are keep, strip.\n", 'set', 'demo', '--relayed', 'maybe');
    assert.equal((await s.run('headers', 'show')).stdout, 'TENANT    RELAYED\ndemo      strip\nfabrikam  strip\n');
  } finally {
    s.cleanup();
  }
});
