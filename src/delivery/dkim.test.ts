import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { TestDnsServer } from '../../test/support/dns-server.js';
import { dkimRecordName, dkimSignatureFor, dkimTxtRecord, findSigningKey, generateDkimKey, type DkimKey } from './dkim.js';

const dns = new TestDnsServer();
const resolver = new Resolver({ timeout: 2000, tries: 1 });
const message = Buffer.from('From: Alice <alice@mail.contoso.test>\r\nTo: bob@remote.test\r\nSubject: signed\r\nDate: Tue, 03 Feb 2026 09:00:00 +0000\r\n\r\nHello.\r\n');

before(async () => {
  resolver.setServers([await dns.start()]);
});
after(() => dns.stop());

function key(algorithm: 'rsa' | 'ed25519', domain: string, selector: string): DkimKey {
  const k = generateDkimKey(algorithm);
  return { domain, selector, algorithm, ...k };
}

async function verify(signed: Buffer): Promise<Array<{ result: string; domain: string }>> {
  const r = await dkimVerify(signed, { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : resolver.resolve(name, type) as Promise<string[]>) });
  return r.results.map((x) => ({ result: x.status.result, domain: x.signingDomain ?? '' }));
}

for (const algorithm of ['rsa', 'ed25519'] as const) {
  test(`a ${algorithm} signature verifies with mailauth against the published TXT record`, async () => {
    const k = key(algorithm, 'contoso.test', `s-${algorithm}`);
    dns.set(dkimRecordName(k.selector, k.domain), { TXT: [dkimTxtRecord(k)] });
    const { header, errors } = await dkimSignatureFor(message, k, new Date());
    assert.deepEqual(errors, []);
    assert.match(header, /^DKIM-Signature: /);
    assert.deepEqual(await verify(Buffer.concat([Buffer.from(header), message])), [{ result: 'pass', domain: 'contoso.test' }]);
    const tampered = Buffer.concat([Buffer.from(header), Buffer.from(message.toString().replace('Hello.', 'Hullo.'))]);
    assert.notEqual((await verify(tampered))[0]!.result, 'pass', 'a changed body no longer verifies');
  });
}

test('the signing key is the From domain’s own, else the nearest parent’s, per tenant', () => {
  const parent = key('rsa', 'contoso.test', 'p');
  const keys = { activeKey: (tenant: string, domain: string) => (tenant === 'contoso' && domain === 'contoso.test' ? parent : null) };
  assert.equal(findSigningKey(keys, 'contoso', 'mail.contoso.test'), parent);
  assert.equal(findSigningKey(keys, 'contoso', 'CONTOSO.test.'), parent);
  assert.equal(findSigningKey(keys, 'fabrikam', 'contoso.test'), null);
  assert.equal(findSigningKey(keys, 'contoso', 'other.test'), null);
});

test('the TXT record names the key type', () => {
  assert.equal(dkimTxtRecord({ algorithm: 'ed25519', publicKey: 'AAAA' }), 'v=DKIM1; k=ed25519; p=AAAA');
  assert.equal(dkimRecordName('s1', 'contoso.test'), 's1._domainkey.contoso.test');
});
