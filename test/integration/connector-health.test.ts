/**
 * Connector health from real SMTP sessions over real TLS with test-made client certificates: what
 * each connector saw is recorded by the front end (flushed in a batch), and the report warns about
 * a renewed certificate with other names, one that expires within 30 days, a certificate name that
 * is not accepted while bounces arrive on it, and a connector silent for 7 days.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { createTestPki, type KeyPair, type TestPki } from '../support/certificates.js';
import { ManualClock } from '../../src/core/clock.js';
import { ConnectorHealthService } from '../../src/health/health-service.js';
import { cliSandbox } from '../../src/cli/testing.js';

const DAY = 86_400_000;
/** The instant the sessions happen at (the policy's clock; the TLS layer checks dates against the real one). */
const T = new Date(Math.floor(Date.now() / 1000) * 1000);

const DIRECTORY = `
tenants:
  - name: contoso
    acceptedDomains:
      - { domain: contoso.example }
      - { domain: relay.contoso.example }
    inboundConnectors:
      - { name: mailserver, type: OnPremises, tlsSenderCertificateName: relay.contoso.example }
  - name: fabrikam
    acceptedDomains:
      - { domain: fabrikam.example }
    inboundConnectors:
      - { name: scanners, type: OnPremises, tlsSenderCertificateName: scan.devices.example }
`;

let pki: TestPki;
let certs: Record<'original' | 'renewed' | 'expiring' | 'scanner', KeyPair>;

before(() => {
  pki = createTestPki();
  certs = {
    original: pki.client('original', { cn: 'relay.contoso.example', dnsNames: ['relay.contoso.example'], notBefore: new Date(T.getTime() - 300 * DAY), notAfter: new Date(T.getTime() + 60 * DAY) }),
    // The renewal the CA issued under another name: it matches no connector any more.
    renewed: pki.client('renewed', { cn: 'smtp.contoso.example', dnsNames: ['smtp.contoso.example'], notBefore: new Date(T.getTime() - DAY), notAfter: new Date(T.getTime() + 365 * DAY) }),
    expiring: pki.client('expiring', { cn: 'relay.contoso.example', dnsNames: ['relay.contoso.example'], notBefore: new Date(T.getTime() - 355 * DAY), notAfter: new Date(T.getTime() + 10 * DAY) }),
    scanner: pki.client('scanner', { cn: 'scan.devices.example', notBefore: new Date(T.getTime() - DAY), notAfter: new Date(T.getTime() + 365 * DAY) }),
  };
});
after(() => pki?.cleanup());

async function withRelay(fn: (h: Harness & { health: NonNullable<Harness['health']> }, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock(T);
  const h = await startHarness({ directory: DIRECTORY, pki, clock, connectorHealth: true });
  try {
    await fn(h as Harness & { health: NonNullable<Harness['health']> }, clock);
  } finally {
    await h.stop();
  }
}

/** A TLS session (STARTTLS) from `from` with the client certificate, after EHLO. */
async function session(h: Harness, from: string, cert: KeyPair): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: from });
  assert.match(await c.read(), /^220 /);
  await c.command('EHLO relay.contoso.example');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade({ key: cert.key, cert: cert.cert });
  await c.command('EHLO relay.contoso.example');
  return c;
}

/** A null-sender bounce to an outside recipient: the reply to RCPT, and the one to DATA when it was accepted. */
async function bounce(h: Harness, from: string, cert: KeyPair): Promise<string[]> {
  const c = await session(h, from, cert);
  try {
    assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
    const rcpt = await c.command('RCPT TO:<someone@elsewhere.example>');
    if (!rcpt.startsWith('250')) return [rcpt];
    assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    c.write('From: postmaster@contoso.example\r\nSubject: undeliverable\r\n\r\nbounce\r\n.\r\n');
    return [rcpt, (await c.read()).replace(/<\w+>$/, '<id>')];
  } finally {
    c.close();
  }
}

function service(h: { health: NonNullable<Harness['health']> }, at: Date): ConnectorHealthService {
  return new ConnectorHealthService({ directory: h.health.directory, health: h.health.store, clock: new ManualClock(at) });
}

const fingerprint = (k: KeyPair): string => new X509Certificate(k.cert).fingerprint256;
const notAfter = (k: KeyPair): string => new Date(new X509Certificate(k.cert).validTo).toISOString();

test('a renewed certificate with other names: its bounces get 5.7.64 and the report says the names changed', async () => {
  await withRelay(async (h, clock) => {
    assert.deepEqual(await bounce(h, '127.0.0.4', certs.original), ['250 2.1.5 Recipient OK', '250 2.0.0 OK <id>']);
    clock.advance(60_000);
    const renewedAt = clock.now();
    assert.deepEqual(await bounce(h, '127.0.0.4', certs.renewed), ['550 5.7.64 TenantAttribution; Relay Access Denied']);
    await h.health.recorder.flush();
    const report = await service(h, renewedAt).report({ tenant: 'CONTOSO' });
    const [mailserver] = report.connectors;
    assert.deepEqual(mailserver!.days, [{ day: T.toISOString().slice(0, 10), accepted: 1, refused: 1 }]);
    assert.deepEqual(mailserver!.certificates.map((c) => [c.names, c.fingerprint, c.seen, c.nullSenders, c.inUse]), [
      [['relay.contoso.example'], fingerprint(certs.original), 1, 1, false],
      [['smtp.contoso.example'], fingerprint(certs.renewed), 1, 1, true],
    ]);
    assert.deepEqual(mailserver!.sources.map((s) => [s.ip, s.seen]), [['127.0.0.4', 2]]);
    assert.deepEqual(report.warnings, [
      {
        tenant: 'contoso',
        connector: 'mailserver',
        code: 'certificate-renamed',
        fingerprint: fingerprint(certs.renewed),
        message:
          `a new certificate (first seen ${renewedAt.toISOString()}) is named smtp.contoso.example, the one before it relay.contoso.example: ` +
          "it does not match the connector's certificate name relay.contoso.example: its mail is not attributed by certificate any more (550 5.7.64 for relay).",
      },
    ]);
  });
});

test('a certificate in use that expires within 30 days: warned in the report, in check --tenant and in connector health', async () => {
  await withRelay(async (h) => {
    assert.deepEqual(await bounce(h, '127.0.0.5', certs.expiring), ['250 2.1.5 Recipient OK', '250 2.0.0 OK <id>']);
    await h.health.recorder.flush();
    const message = `the certificate in use (relay.contoso.example) expires on ${notAfter(certs.expiring)}, in 10 days: renew it, with the same names.`;
    assert.deepEqual((await service(h, T).report()).warnings, [
      { tenant: 'contoso', connector: 'mailserver', code: 'certificate-expiring', fingerprint: fingerprint(certs.expiring), message },
    ]);
    assert.deepEqual((await service(h, new Date(T.getTime() - 30 * DAY)).report()).warnings, [], 'forty days ahead it is not due');

    const s = cliSandbox();
    try {
      writeFileSync(s.config, `hostname: test.example\ndataDir: ${h.dataDir}\nstore: sqlite\n`);
      const at = T.toISOString();
      const cli = await s.run('connector', 'health', '--tenant', 'contoso', '--at', at);
      assert.equal(cli.code, 1, cli.stderr);
      const day = at.slice(0, 10);
      assert.equal(
        cli.stdout,
        `Connector contoso/mailserver (OnPremises): last seen ${at}\n` +
          '  Traffic (last 30 days, UTC):\n' +
          `    ${day}  accepted 1  refused 0\n` +
          '  Client certificates (oldest first):\n' +
          '    relay.contoso.example  (in use)\n' +
          '      subject CN=relay.contoso.example; issuer CN=Relaygate Test CA; trusted\n' +
          `      SHA-256 ${fingerprint(certs.expiring)}\n` +
          `      valid until ${notAfter(certs.expiring)}; first seen ${at}, last seen ${at}, 1 times (1 null sender, 0 foreign sender)\n` +
          '  Source addresses (most recent first):\n' +
          `    127.0.0.5  first seen ${at}, last seen ${at}, 1 times\n` +
          `  warning: [certificate-expiring] ${message}\n` +
          '\n1 warning.\n',
      );
      const json = JSON.parse((await s.run('connector', 'health', '--json', '--at', at)).stdout) as { connectors: Array<{ connector: string; lastSeen: string | null }>; warnings: unknown[] };
      assert.deepEqual(json.connectors.map((c) => [c.connector, c.lastSeen]), [['mailserver', at], ['scanners', null]]);
      assert.equal(json.warnings.length, 1);
      const check = await s.run('check', '--tenant', 'contoso');
      assert.equal(check.code, 1);
      assert.equal(
        check.stdout.slice(check.stdout.indexOf('Result:')),
        'Result: clean.\n\nConnector health: 1 warning from the traffic this relay saw:\n' +
          // check judges at the real now, a moment after T: the days left are counted from it.
          `  - connector mailserver: [certificate-expiring] ${message.replace('in 10 days', `in ${Math.ceil((Date.parse(notAfter(certs.expiring)) - Date.now()) / DAY)} days`)}\n`,
      );
      assert.deepEqual(await s.run('connector', 'health', '--tenant', 'nobody'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    } finally {
      s.cleanup();
    }
  });
});

test('bounces on a certificate whose name is not an accepted domain: refused outside, warned with the counts', async () => {
  await withRelay(async (h) => {
    assert.deepEqual(await bounce(h, '127.0.0.6', certs.scanner), ['550 5.7.64 TenantAttribution; Relay Access Denied']);
    const c = await session(h, '127.0.0.6', certs.scanner);
    assert.equal(await c.command('MAIL FROM:<scanner@devices.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
    c.close();
    await h.health.recorder.flush();
    const report = await service(h, T).report({ tenant: 'fabrikam' });
    assert.deepEqual(report.connectors[0]!.days, [{ day: T.toISOString().slice(0, 10), accepted: 0, refused: 2 }]);
    assert.deepEqual(report.warnings, [
      {
        tenant: 'fabrikam',
        connector: 'scanners',
        code: 'certificate-name-not-accepted',
        fingerprint: fingerprint(certs.scanner),
        message:
          "certificate scan.devices.example is not an accepted domain of fabrikam, and 1 with the null sender and 1 with an envelope sender not in fabrikam's accepted domains arrived on it: " +
          'relaying them is refused (condition 1a not met; 550 5.7.64). Add scan.devices.example as an accepted domain of fabrikam.',
      },
    ]);
    // The fix: the name becomes an accepted domain; the same history warns no more.
    await h.health.directory.addDomain('fabrikam', { domain: 'scan.devices.example' });
    assert.deepEqual((await service(h, T).report({ tenant: 'fabrikam' })).warnings, []);
  });
});

test('no traffic for 7 days: warned from the seventh day on, with the instant last seen', async () => {
  await withRelay(async (h) => {
    await bounce(h, '127.0.0.4', certs.original);
    await h.health.recorder.flush();
    assert.deepEqual((await service(h, new Date(T.getTime() + 6 * DAY)).report({ tenant: 'contoso' })).warnings, []);
    const s = cliSandbox();
    try {
      writeFileSync(s.config, `hostname: test.example\ndataDir: ${h.dataDir}\nstore: sqlite\n`);
      const later = new Date(T.getTime() + 8 * DAY).toISOString();
      const r = await s.run('connector', 'health', '--tenant', 'contoso', '--at', later, '--json');
      assert.equal(r.code, 1);
      assert.deepEqual((JSON.parse(r.stdout) as { warnings: unknown[] }).warnings, [
        { tenant: 'contoso', connector: 'mailserver', code: 'no-traffic', message: `no traffic for 8 days (last seen ${T.toISOString()}).` },
      ]);
      // A connector that never saw traffic is not "silent": there is nothing to compare with.
      const fabrikam = await s.run('connector', 'health', '--tenant', 'fabrikam', '--at', later);
      assert.deepEqual(fabrikam, { code: 0, stdout: 'Connector fabrikam/scanners (OnPremises): no traffic recorded\n\nNo warnings.\n', stderr: '' });
    } finally {
      s.cleanup();
    }
  });
});
