/**
 * `serve` records connector health and logs its warnings: a session over real TLS with a client
 * certificate that expires within 30 days, the sightings written when serve stops (the last batch
 * is not lost), and the warning logged when serve starts again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawSmtpClient } from '../support/smtp-client.js';
import { createTestPki } from '../support/certificates.js';
import { loadConfig } from '../../src/config/index.js';
import { openSqliteStores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';

const DAY = 86_400_000;

test('serve writes what it saw when it stops, and logs a certificate that expires soon when it starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-health-serve-'));
  const pki = createTestPki();
  try {
    const cert = pki.client('soon', { cn: 'relay.contoso.example', notAfter: new Date(Date.now() + 12 * DAY) });
    writeFileSync(
      join(dir, 'relaygate.yaml'),
      `hostname: relay.test
dataDir: ./data
listeners:
  - { name: smtp, address: "127.0.0.1:0", tls: starttls }
tls: { cert: ${pki.server.certPath}, key: ${pki.server.keyPath}, clientCa: ${pki.ca.certPath} }
delivery: { enabled: false }
`,
    );
    const config = loadConfig(join(dir, 'relaygate.yaml'), {});
    const stores = openSqliteStores(config);
    await stores.directory.replace(
      parseDirectoryYaml(`
tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.example }, { domain: relay.contoso.example }]
    inboundConnectors:
      - { name: mailserver, type: OnPremises, tlsSenderCertificateName: relay.contoso.example }
`),
    );
    const logged: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> = [];
    const log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void => void logged.push({ level, message, fields });
    const first = await serve({ config, stores, log });
    try {
      assert.deepEqual(logged.filter((l) => l.message.startsWith('connector health')), [], 'nothing seen yet, nothing to warn about');
      const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: first.listeners[0]!.port, localAddress: '127.0.0.4' });
      await c.read();
      await c.command('EHLO relay.contoso.example');
      assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
      await c.upgrade({ key: cert.key, cert: cert.cert });
      await c.command('EHLO relay.contoso.example');
      assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
      assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '250 2.1.5 Recipient OK');
      c.close();
    } finally {
      await first.stop();
    }
    const second = await serve({ config, stores, log });
    await second.stop();
    const notAfter = new Date(new X509Certificate(cert.cert).validTo).toISOString();
    const warnings = logged.filter((l) => l.message.startsWith('connector health'));
    assert.equal(warnings.length, 1, JSON.stringify(logged));
    assert.equal(warnings[0]!.level, 'warn');
    assert.match(
      warnings[0]!.message,
      new RegExp(`^connector health: tenant contoso, connector mailserver: the certificate in use \\(relay\\.contoso\\.example\\) expires on ${notAfter.replace(/\./g, '\\.')}, in 1[12] days: renew it, with the same names\\.$`),
    );
    assert.deepEqual(warnings[0]!.fields, { tenant: 'contoso', connector: 'mailserver', warning: 'certificate-expiring', fingerprint: new X509Certificate(cert.cert).fingerprint256 });
    stores.close();
  } finally {
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
