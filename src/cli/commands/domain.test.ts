import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

test('domain list, add and remove', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.equal(
      (await s.run('domain', 'list')).stdout,
      'DOMAIN             TYPE           MATCH SUBDOMAINS  TENANT\n' +
        'demo.example       Authoritative  false             demo\n' +
        'apps.demo.example  InternalRelay  true              demo\n' +
        'mail.demo.example  Authoritative  false             demo\n' +
        'fabrikam.example   Authoritative  false             fabrikam\n',
    );
    const added = await s.run('domain', 'add', 'fabrikam', 'Fabrikam.NET.', '--type', 'InternalRelay', '--match-subdomains');
    assert.deepEqual([added.code, added.stdout], [0, '+ accepted domain fabrikam/fabrikam.net\n1 change applied\n']);
    assert.deepEqual(JSON.parse((await s.run('domain', 'list', '--tenant', 'fabrikam', '--json')).stdout), [
      { tenant: 'fabrikam', domain: 'fabrikam.example', type: 'Authoritative', matchSubDomains: false },
      { tenant: 'fabrikam', domain: 'fabrikam.net', type: 'InternalRelay', matchSubDomains: true },
    ]);
    assert.deepEqual(await s.run('domain', 'remove', 'FABRIKAM.net'), {
      code: 0,
      stdout: '- accepted domain fabrikam/fabrikam.net\n1 change applied\n',
      stderr: '',
    });
  } finally {
    s.cleanup();
  }
});

test('domain errors name the tenant, the domain and the reason; nothing changes', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const before = (await s.run('export')).stdout;
    assert.deepEqual(await s.run('domain', 'add', 'fabrikam', 'demo.example'), {
      code: 2,
      stdout: '',
      stderr: 'relaygate: demo.example already belongs to tenant demo\n',
    });
    assert.deepEqual(await s.run('domain', 'add', 'demo', 'demo.example'), {
      code: 2,
      stdout: '',
      stderr: 'relaygate: demo.example already belongs to tenant demo\n',
    });
    assert.deepEqual(await s.run('domain', 'add', 'fabrikam', 'x.example', '--match-subdomains'), {
      code: 2,
      stdout: '',
      stderr:
        'relaygate: invalid directory (1 problem):\n  tenant fabrikam, accepted domain x.example: matchSubDomains: allowed only on InternalRelay domains, not on Authoritative\n',
    });
    assert.deepEqual(await s.run('domain', 'add', 'nobody', 'x.example'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    assert.deepEqual(await s.run('domain', 'remove', 'x.example'), {
      code: 1,
      stdout: '',
      stderr: 'relaygate: x.example is not an accepted domain of any tenant\n',
    });
    assert.deepEqual(await s.run('domain', 'list', '--tenant', 'nobody'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    const ext = await s.run('domain', 'add', 'fabrikam', 'x.example', '--type', 'ExternalRelay');
    assert.equal(ext.code, 2);
    assert.match(ext.stderr, /argument 'ExternalRelay' is invalid\. Allowed choices are Authoritative, InternalRelay\./);
    assert.equal((await s.run('export')).stdout, before);
  } finally {
    s.cleanup();
  }
});
