/**
 * The certificate gauges of /metrics on the live relay: the listeners' own certificate (tls.cert),
 * and the client certificate a connector's device presents over STARTTLS, as connector health
 * recorded it (written every 5 s). Both as notAfter in Unix seconds, checked exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { loadConfig } from '../../src/config/index.js';
import { openSqliteStores, type SqliteStores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { family, parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'certificate-test-token';
let dir: string;
let pki: TestPki;
let stores: SqliteStores;
let relay: Awaited<ReturnType<typeof serve>>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-certs-'));
  pki = createTestPki();
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `hostname: relay.test
dataDir: ./data
listeners:
  - { name: submission, address: "127.0.0.1:0", tls: starttls }
tls: { cert: "${pki.server.certPath}", key: "${pki.server.keyPath}", clientCa: "${pki.ca.certPath}" }
delivery: { enabled: false }
metrics: { address: "127.0.0.1:0", token: "${TOKEN}" }
`,
  );
  const config = loadConfig(join(dir, 'relaygate.yaml'), {});
  stores = openSqliteStores(config);
  await stores.directory.replace(
    parseDirectoryYaml(`
tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.example }, { domain: relay.contoso.example }]
    inboundConnectors:
      - { name: mailserver, type: OnPremises, tlsSenderCertificateName: relay.contoso.example }
`),
  );
  relay = await serve({ config, stores });
});

after(async () => {
  await relay?.stop();
  await stores?.close();
  pki?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const notAfterSeconds = (pem: string): number => new Date(new X509Certificate(pem).validTo).getTime() / 1000;

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return parsePrometheusText(await res.text());
}

test("the listeners' certificate and a connector's client certificate, by their notAfter", async () => {
  const device = pki.client('device', { cn: 'relay.contoso.example', notAfter: new Date(Date.UTC(2031, 5, 30, 12, 0, 0)) });
  const before = await scrape();
  assert.equal(sampleValue(before, 'relaygate_server_certificate_expiry_timestamp_seconds'), notAfterSeconds(pki.server.cert));
  assert.deepEqual(family(before, 'relaygate_connector_certificate_expiry_timestamp_seconds'), {});

  const port = relay.listeners.find((l) => l.name === 'submission')!.port;
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.4' });
  assert.match(await c.read(), /^220 /);
  await c.command('EHLO relay.contoso.example');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade({ key: device.key, cert: device.cert });
  await c.command('EHLO relay.contoso.example');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '250 2.1.5 Recipient OK');
  assert.match(await c.command('QUIT'), /^221 /);
  await c.closed();

  // Connector health writes what the front end saw every 5 s; the gauge reads it at the next scrapes.
  const expiries = await waitFor(
    async () => {
      const f = family(await scrape(), 'relaygate_connector_certificate_expiry_timestamp_seconds');
      return Object.keys(f).length > 0 && f;
    },
    { message: "the device's certificate in /metrics", timeoutMs: 30_000, intervalMs: 250 },
  );
  assert.deepEqual(expiries, { 'connector=mailserver,tenant=contoso': Date.UTC(2031, 5, 30, 12, 0, 0) / 1000 });
  const after = await scrape();
  assert.deepEqual(family(after, 'relaygate_policy_decisions_total'), { 'rule=relay,rule_set=2023-11,tenant=contoso,verdict=relay': 1 });
});
