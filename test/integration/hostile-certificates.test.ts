/**
 * Certificate spoofing: client certificates made to look like a connector's, presented over
 * STARTTLS from 127.0.0.4 (no IP connector), each carrying a null-sender bounce to a foreign domain,
 * which only condition 1a can relay (a trusted, valid certificate whose matched name is an accepted
 * domain, relay-policy.md §2–§4). The expected reply of each cell and why is in the table.
 *
 * Covered in smtp-tls.test.ts and not repeated: a valid certificate with the name in CN and SAN, or
 * only in a SAN; expired, not yet valid, self-signed and other-CA certificates, in STARTTLS and
 * implicit TLS; the trace naming the verification error.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { bodyText, startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { createTestPki, type KeyPair, type TestPki } from '../support/certificates.js';
import { waitFor } from '../support/wait-for.js';

// contoso's `mailserver` connector names relay.contoso.example, one of contoso's accepted domains.
const directory = `${testDirectoryYaml}
  - name: wildco
    acceptedDomains:
      - { domain: wild.example }
    inboundConnectors:
      - { name: wildcard, type: OnPremises, tlsSenderCertificateName: "*.wild.example" }
  - name: retired
    acceptedDomains:
      - { domain: mail.retired.example }
      - { domain: partner.retired.example }
    inboundConnectors:
      - { name: old-server, type: OnPremises, tlsSenderCertificateName: mail.retired.example, enabled: false }
      - { name: partner, type: Partner, tlsSenderCertificateName: partner.retired.example }
`;

const OK = '250 2.1.5 Recipient OK';
const DENIED = '550 5.7.64 TenantAttribution; Relay Access Denied';

let h: Harness;
let pki: TestPki;
before(async () => {
  pki = createTestPki();
  h = await startHarness({ directory, pki });
});
after(async () => {
  await h?.stop();
  pki?.cleanup();
});

interface Cell {
  name: string;
  cert: () => KeyPair;
  mailFrom?: string;
  expected: string;
  why: string;
  /** The trace must say the certificate was not trusted. */
  untrusted?: true;
}

const cells: Cell[] = [
  { name: 'the name only in the CN, no SAN', cert: () => pki.client('cn-only', { cn: 'relay.contoso.example' }), expected: OK, why: '§2: the CN counts; 1a' },
  { name: 'the name in the second of two SANs', cert: () => pki.client('second-san', { cn: 'Contoso Relay', dnsNames: ['mail.other.example', 'relay.contoso.example'] }), expected: OK, why: '§2: every DNS SAN counts' },
  { name: 'the name in upper case', cert: () => pki.client('upper', { cn: 'RELAY.CONTOSO.EXAMPLE' }), expected: OK, why: '§2: names are lower-cased' },
  { name: 'serverAuth-only extended key usage', cert: () => pki.client('server-eku', { cn: 'relay.contoso.example', dnsNames: ['relay.contoso.example'], extendedKeyUsage: 'serverAuth' }), expected: DENIED, why: '§2: the chain does not verify for a client', untrusted: true },
  { name: "a tenant's own leaf certificate used as a CA", cert: () => pki.signedBy('leaf-signed', pki.client('devices-leaf', { cn: 'mail.devices.example' }), { cn: 'relay.contoso.example', dnsNames: ['relay.contoso.example'] }), expected: DENIED, why: '§2: the chain does not verify', untrusted: true },
  { name: 'a wildcard certificate covering the name', cert: () => pki.client('wildcard', { cn: '*.contoso.example', dnsNames: ['*.contoso.example'] }), expected: DENIED, why: '§1: the connector names one host; *.contoso.example is not it' },
  { name: 'a deeper host under the name', cert: () => pki.client('deeper', { cn: 'mail.relay.contoso.example' }), expected: DENIED, why: '§1: an exact name matches only itself' },
  { name: 'the name as a prefix of another domain', cert: () => pki.client('prefix', { cn: 'relay.contoso.example.evil.example' }), expected: DENIED, why: '§1: label-exact match' },
  { name: 'the name only in O', cert: () => pki.client('in-o', { cn: 'x', subject: '/O=relay.contoso.example/CN=Contoso Device' }), expected: DENIED, why: '§2: only CN and DNS SANs count' },
  { name: 'the name only in OU', cert: () => pki.client('in-ou', { cn: 'x', subject: '/OU=relay.contoso.example/CN=Contoso Device' }), expected: DENIED, why: '§2: only CN and DNS SANs count' },
  { name: 'an O value holding a line break and CN=the name', cert: () => pki.client('o-newline', { cn: 'x', subject: '/O=Contoso\nCN=relay.contoso.example/CN=Contoso Device' }), expected: DENIED, why: '§2: the real CN is Contoso Device' },
  { name: 'the name only as a URI SAN', cert: () => pki.client('uri-san', { cn: 'Contoso Device', altNames: [{ type: 'URI', value: 'relay.contoso.example' }] }), expected: DENIED, why: '§2: only DNS SANs count' },
  { name: 'the name only as an e-mail SAN', cert: () => pki.client('email-san', { cn: 'Contoso Device', altNames: [{ type: 'email', value: 'relay.contoso.example' }] }), expected: DENIED, why: '§2: only DNS SANs count' },
  { name: 'a DNS SAN holding a comma and the name', cert: () => pki.client('comma-san', { cn: 'Contoso Device', altNames: [{ type: 'DNS', value: 'a.example, DNS:relay.contoso.example' }] }), expected: DENIED, why: '§2: one SAN is one name' },
  { name: "the name of a disabled connector", cert: () => pki.client('disabled', { cn: 'mail.retired.example' }), expected: DENIED, why: '§1: a disabled connector matches nothing' },
  { name: "the name of a Partner connector", cert: () => pki.client('partner', { cn: 'partner.retired.example' }), expected: DENIED, why: '§3.1: only OnPremises connectors attribute' },
  { name: 'wildcard connector: its parent domain, accepted', cert: () => pki.client('wild-parent', { cn: 'wild.example' }), expected: OK, why: '§1 *.parent matches parent; 1a' },
  { name: 'wildcard connector: a host under it, not accepted', cert: () => pki.client('wild-host', { cn: 'host.wild.example' }), expected: DENIED, why: '§4.2: matched, but 1a fails and a null P1 never satisfies 1b' },
  { name: 'wildcard connector: a host under it, P1 accepted', cert: () => pki.client('wild-host-p1', { cn: 'host.wild.example' }), mailFrom: 'app@wild.example', expected: OK, why: '§4.2: 1b' },
  { name: 'wildcard connector: the parent inside a label', cert: () => pki.client('wild-label', { cn: 'evilwild.example' }), expected: DENIED, why: '§1: label boundary' },
  { name: 'wildcard connector: the parent as a prefix', cert: () => pki.client('wild-prefix', { cn: 'wild.example.evil.example' }), expected: DENIED, why: '§1: label boundary' },
];

async function startTls(cert: KeyPair): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: '127.0.0.4' });
  assert.match(await c.read(), /^220 /);
  await c.command('EHLO relay.contoso.example');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade({ key: cert.key, cert: cert.cert });
  assert.match(await c.command('EHLO relay.contoso.example'), /^250-/);
  return c;
}

test('client-certificate set: each certificate relays a bounce only where the contract lets it', async () => {
  const results = await Promise.all(
    cells.map(async (cell) => {
      const c = await startTls(cell.cert());
      assert.equal(await c.command(`MAIL FROM:<${cell.mailFrom ?? ''}>`), '250 2.1.0 Sender OK');
      const reply = await c.command('RCPT TO:<user@elsewhere.example>');
      c.close();
      return `${cell.name}: ${reply}`;
    }),
  );
  assert.deepEqual(results, cells.map((c) => `${c.name}: ${c.expected}`));
  const relayed = cells.filter((c) => c.expected === OK).length;
  console.log(`certificate spoofing: ${cells.length - relayed} of ${cells.length} certificates refused as the contract says; ${relayed} legitimate ones relayed`);
});

test('the trace says why the certificates that did not verify gave no names', async () => {
  await waitFor(
    async () => {
      await h.relay.acceptor.drain();
      const steps = (await h.decisions.list({ limit: 500 })).filter((d) => d.clientIp === '127.0.0.4').map((d) => d.steps);
      return steps.filter((s) => /"presented":true/.test(s) && /not trusted: /.test(s)).length >= cells.filter((c) => c.untrusted).length;
    },
    { message: 'a decision naming the verification failure for each untrusted certificate' },
  );
});

test('a certificate name written to look like a verified one stays inside its quotes in the Received header', async () => {
  // Other-CA signed, so not verified: its CN imitates the comment relaygate writes for a verified one.
  const cert = pki.client('spoof-received', { cn: 'x', subject: '/CN=x", Issuer "Relaygate Test CA" (verified OK)) (', signer: 'other' });
  const c = await startTls(cert);
  assert.equal(await c.command('MAIL FROM:<someone@elsewhere.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<info@contoso.example>'), OK);
  assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  c.write('Subject: spoof\r\n\r\nhello\r\n.\r\n');
  const id = /^250 2\.0\.0 OK <(\w{20})>$/.exec(await c.read())?.[1];
  assert.ok(id);
  c.close();
  const text = await bodyText(h.bodies, id);
  assert.ok(text !== null);
  const line = text.split('\r\n')[2]!;
  // Every backslash, quote and parenthesis of the certificate's text is a quoted-pair: without them
  // the line is one comment with one quoted name, and it says "not verified".
  assert.ok(line.endsWith(', Issuer "Some Other CA" (not verified))'), line);
  assert.equal(line.replace(/\\./g, ''), '\t(Client CN "x, Issuer Relaygate Test CA verified OK ", Issuer "Some Other CA" (not verified))');
});
