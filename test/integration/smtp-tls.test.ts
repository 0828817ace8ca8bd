import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { bodyText, startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { createTestPki, type KeyPair, type TestPki } from '../support/certificates.js';
import { waitFor } from '../support/wait-for.js';

let h: Harness;
let pki: TestPki;
let certs: Record<string, KeyPair>;

before(async () => {
  pki = createTestPki();
  certs = {
    valid: pki.client('valid', { cn: 'relay.contoso.example', dnsNames: ['relay.contoso.example'] }),
    sanOnly: pki.client('san-only', { cn: 'Contoso Relay', dnsNames: ['relay.contoso.example'] }),
    expired: pki.client('expired', { cn: 'relay.contoso.example', notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') }),
    notYetValid: pki.client('future', { cn: 'relay.contoso.example', notBefore: new Date(Date.now() + 30 * 86_400_000), notAfter: new Date(Date.now() + 60 * 86_400_000) }),
    selfSigned: pki.selfSigned('self', { cn: 'relay.contoso.example' }),
    wrongCa: pki.client('wrong-ca', { cn: 'relay.contoso.example', signer: 'other' }),
    wrongName: pki.client('wrong-name', { cn: 'mail.elsewhere.example' }),
  };
  h = await startHarness({
    directory: testDirectoryYaml,
    pki,
    listeners: [
      { name: 'submission', host: '127.0.0.1', port: 0, tls: 'starttls' },
      { name: 'smtps', host: '127.0.0.1', port: 0, tls: 'implicit' },
    ],
  });
});
after(async () => {
  await h?.stop();
  pki?.cleanup();
});

/** Opens a TLS session from 127.0.0.4 (no IP connector) with the named client certificate. */
async function session(mode: 'starttls' | 'implicit', cert: KeyPair | null): Promise<RawSmtpClient> {
  const tlsOpts = cert ? { key: cert.key, cert: cert.cert } : {};
  if (mode === 'implicit') {
    const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtps'), localAddress: '127.0.0.4', tls: tlsOpts });
    assert.match(await c.read(), /^220 /);
    return c;
  }
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('submission'), localAddress: '127.0.0.4' });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO relay.contoso.example'), /\n250-STARTTLS\n|\n250 STARTTLS$/);
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade(tlsOpts);
  return c;
}

/** A null-sender bounce to a foreign domain: only a trusted certificate named as an accepted domain passes it (1a). */
async function bounce(c: RawSmtpClient): Promise<string> {
  await c.command('EHLO relay.contoso.example');
  assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
  const reply = await c.command('RCPT TO:<user@elsewhere.example>');
  c.close();
  return reply;
}

for (const mode of ['starttls', 'implicit'] as const) {
  test(`${mode}: a valid certificate (CN or SAN) attributes the connection and relays a null sender`, async () => {
    assert.equal(await bounce(await session(mode, certs.valid!)), '250 2.1.5 Recipient OK');
    assert.equal(await bounce(await session(mode, certs.sanOnly!)), '250 2.1.5 Recipient OK');
  });

  test(`${mode}: expired, not yet valid, self-signed, wrong-CA and wrong-name certificates give no names`, async () => {
    for (const name of ['expired', 'notYetValid', 'selfSigned', 'wrongCa', 'wrongName']) {
      assert.equal(await bounce(await session(mode, certs[name]!)), '550 5.7.64 TenantAttribution; Relay Access Denied', name);
    }
    assert.equal(await bounce(await session(mode, null)), '550 5.7.64 TenantAttribution; Relay Access Denied', 'no certificate');
  });
}

test('the trace records why an untrusted certificate gave no names', async () => {
  assert.equal(await bounce(await session('starttls', certs.wrongCa!)), '550 5.7.64 TenantAttribution; Relay Access Denied');
  const found = await waitFor(
    async () => {
      await h.relay.acceptor.drain();
      return (await h.decisions.list({ limit: 200 })).find((d) => d.clientIp === '127.0.0.4' && /not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(d.steps))?.steps;
    },
    { message: 'a decision whose steps name the verification error' },
  );
  assert.ok(found, 'a decision whose steps name the verification error');
  assert.match(found, /"presented":true/);
});

test('the Received header names the TLS version and cipher, the client certificate and the queue id', async () => {
  const c = await session('implicit', certs.valid!);
  await c.command('EHLO relay.contoso.example');
  await c.command('MAIL FROM:<>');
  await c.command('RCPT TO:<user@elsewhere.example>');
  await c.command('DATA');
  c.write('From: postmaster@contoso.example\r\nSubject: bounce\r\n\r\nundeliverable\r\n.\r\n');
  const id = /^250 2\.0\.0 OK <(\w+)>$/.exec(await c.read())?.[1];
  assert.ok(id);
  const protocol = c.tlsSocket?.getProtocol();
  c.close();
  const row = (await h.entry(id))?.message;
  assert.ok(row);
  assert.ok(protocol);
  assert.match(row.tls!, new RegExp(`^${protocol} TLS_`));
  assert.equal(row.attribution, 'cert');
  assert.equal(row.connector, 'mailserver');
  const text = await bodyText(h.bodies, id);
  assert.ok(text !== null, 'the body is stored');
  assert.match(text, new RegExp(`^Received: from relay\\.contoso\\.example \\(\\[127\\.0\\.0\\.4\\]\\)\\r\\n\\tby relay\\.test \\(relaygate\\) with ESMTPS \\(using ${protocol} with cipher TLS_\\w+\\)\\r\\n\\t\\(Client CN "relay\\.contoso\\.example", Issuer "Relaygate Test CA" \\(verified OK\\)\\)\\r\\n\\tid ${id} for <user@elsewhere\\.example>;`));
});

test('a certificate that did not verify is named too, as not verified (inbound mail is still accepted)', async () => {
  const c = await session('starttls', certs.wrongCa!);
  await c.command('EHLO relay.contoso.example');
  assert.equal(await c.command('MAIL FROM:<someone@elsewhere.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<user@contoso.example>'), '250 2.1.5 Recipient OK');
  await c.command('DATA');
  c.write('Subject: inbound\r\n\r\nhello\r\n.\r\n');
  const id = /^250 2\.0\.0 OK <(\w+)>$/.exec(await c.read())?.[1];
  assert.ok(id);
  c.close();
  const text = await bodyText(h.bodies, id);
  assert.ok(text !== null, 'the body is stored');
  assert.equal(text.split('\r\n')[2], '\t(Client CN "relay.contoso.example", Issuer "Some Other CA" (not verified))');
});

test('commands pipelined after STARTTLS are discarded and the session is refused with 421', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('submission'), localAddress: '127.0.0.4' });
  await c.read();
  await c.command('EHLO attacker.example');
  c.write('STARTTLS\r\nMAIL FROM:<x@contoso.example>\r\nRCPT TO:<victim@elsewhere.example>\r\n');
  assert.equal(await c.read(), '220 2.0.0 Ready to start TLS');
  await c.upgrade({});
  assert.equal(await c.read(), '421 4.7.0 Commands sent before the TLS handshake completed, closing connection');
  assert.equal(await c.closed(), '');
});

test('STARTTLS is not offered or accepted on an implicit-TLS listener', async () => {
  const c = await session('implicit', null);
  assert.doesNotMatch(await c.command('EHLO x'), /STARTTLS/);
  assert.equal(await c.command('STARTTLS'), '500 5.5.2 Error: command not recognized');
  c.close();
});

test('a failed STARTTLS handshake frees the connection slot', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('submission'), localAddress: '127.0.0.6' });
  await c.read();
  await c.command('EHLO x');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  c.write('this is not a TLS ClientHello\r\n');
  await c.closed();
  await waitFor(() => h.relay.server.openConnections === 0, { message: () => `no open connection (${h.relay.server.openConnections} open)` });
  assert.equal(h.relay.server.openConnections, 0);
});
