import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { cliSandbox } from '../testing.js';
import { tenantSettingsAt } from '../../../test/support/tenant-settings.js';
import { dkimSignatureFor } from '../../delivery/dkim.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

test('dkim generate stores a key and prints the TXT record that verifies its signatures', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const out = await s.run('dkim', 'generate', '--tenant', 'demo', '--domain', 'Demo.Example.', '--selector', 'rg2026');
    assert.equal(out.code, 0, out.stderr);
    const m = /^rg2026\._domainkey\.demo\.example\. IN TXT ((?:"[^"]{1,255}" ?)+)\n$/.exec(out.stdout);
    assert.ok(m, `unexpected output: ${out.stdout}`);
    const txt = [...m[1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]!).join('');
    assert.match(txt, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);

    // What delivery signs with: the key in the tenant settings snapshot.
    const settings = await tenantSettingsAt(join(s.dir, 'data', 'relaygate.db'));
    const key = settings.activeDkimKey(settings.tenantId('demo')!, 'demo.example');
    assert.ok(key);
    const message = Buffer.from('From: a@demo.example\r\nTo: b@x.test\r\nSubject: s\r\n\r\nbody\r\n');
    const { header } = await dkimSignatureFor(message, key, new Date());
    const resolver = async (name: string): Promise<string[][]> => (name === 'rg2026._domainkey.demo.example' ? [[txt]] : []);
    const verified = await dkimVerify(Buffer.concat([Buffer.from(header), message]), { resolver });
    assert.equal(verified.results[0]?.status.result, 'pass');

    const list = JSON.parse((await s.run('dkim', 'list', '--json')).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(list.map((k) => [k.tenant, k.domain, k.selector, k.algorithm, 'privateKey' in k]), [['demo', 'demo.example', 'rg2026', 'rsa', false]]);
    const ed = JSON.parse((await s.run('dkim', 'generate', '--tenant', 'demo', '--domain', 'demo.example', '--selector', 'ed', '--algorithm', 'ed25519', '--json')).stdout) as { txt: string };
    assert.match(ed.txt, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  } finally {
    s.cleanup();
  }
});

test('dkim generate refuses an unknown tenant, a bad domain and a bad selector', async () => {
  const s = cliSandbox();
  try {
    assert.deepEqual(await s.run('dkim', 'generate', '--tenant', 'nobody', '--domain', 'x.example', '--selector', 's1'), {
      code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n',
    });
    assert.deepEqual(await s.run('dkim', 'generate', '--tenant', 'demo', '--domain', 'bad_domain!', '--selector', 's1'), {
      code: 2, stdout: '', stderr: 'relaygate: not a domain name: bad_domain!\n',
    });
    assert.deepEqual(await s.run('dkim', 'generate', '--tenant', 'demo', '--domain', 'x.example', '--selector', 'a b'), {
      code: 2, stdout: '', stderr: 'relaygate: not a valid selector: a b\n',
    });
  } finally {
    s.cleanup();
  }
});
