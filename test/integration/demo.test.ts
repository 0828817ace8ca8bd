/**
 * The quick start's demo, as `npm start` runs it: the built-in demo settings on an empty data
 * directory seed the demo tenants and make the demo's TLS files (server certificate, a client CA the
 * demo trusts, a client certificate for mail.demo.example), and the banner's swaks commands, run as
 * printed, relay: over the IP connector, and a null-sender bounce over the certificate connector,
 * which the IP connector alone refuses. The listeners are moved to port 0 and delivery is off, so
 * the test runs beside a real `npm start` and nothing leaves loopback; everything else is the demo's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RelaygateConfig } from '../../src/config/index.js';
import { openStores, type Stores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { serveBanner } from '../../src/cli/serve-banner.js';
import { runCliCaptured } from '../../src/cli/testing.js';
import { bodyText } from '../support/relay-harness.js';

let dir: string;
let stores: Stores;
let relay: Awaited<ReturnType<typeof serve>>;
let banner: string;

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--timeout', '20', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

/** Splits a printed command line into words the way sh does for plain words and '...' quotes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/(?:'[^']*'|[^\s'])+/g)) words.push(m[0].replace(/'([^']*)'/g, '$1'));
  return words;
}

function printedSwaks(): string[][] {
  return banner
    .split('\n')
    .filter((l) => l.trimStart().startsWith('swaks '))
    .map((l) => shellWords(l.trim()).slice(1));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-demo-'));
  const demo = loadConfig(undefined, {}, { cwd: dir });
  assert.equal(demo.configFile, null, 'no relaygate.yaml: the built-in demo settings');
  const config: RelaygateConfig = {
    ...demo,
    listeners: demo.listeners.map((l) => ({ ...l, port: 0 })),
    delivery: { ...demo.delivery, enabled: false },
  };
  stores = await openStores(config);
  relay = await serve({ config, stores });
  const tenants = (await stores.directory.load()).tenants.map((t) => t.name);
  banner = serveBanner({ configFile: config.configFile, dataDir: config.dataDir, tenants, listeners: relay.listeners, demo: relay.demo });
});

after(async () => {
  await relay?.stop();
  stores?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the banner names the demo settings, the data directory and both tenants, and prints both swaks commands', () => {
  const smtp = relay.listeners.find((l) => l.name === 'smtp')!;
  const smtps = relay.listeners.find((l) => l.name === 'smtps')!;
  const tls = join(dir, 'data', 'tls');
  assert.equal(
    banner,
    'relaygate: configuration: built-in demo settings (no --config and no ./relaygate.yaml)\n' +
      `relaygate: data directory: ${join(dir, 'data')}\n` +
      'relaygate: directory: 2 tenants (demo, fabrikam)\n' +
      `relaygate: listening on 127.0.0.1:${smtp.port} (smtp, tls: starttls)\n` +
      `relaygate: listening on 127.0.0.1:${smtps.port} (smtps, tls: implicit)\n` +
      'relaygate: demo: tenant "demo" owns demo.example. In a second terminal, relay a message over its IP connector\n' +
      '  "loopback" (this machine), whose envelope sender is in an accepted domain:\n' +
      `    swaks --server 127.0.0.1:${smtp.port} --from app@demo.example --to someone@example.com\n` +
      '  and a null-sender bounce, which the IP connector alone refuses (550 5.7.64), over its certificate connector\n' +
      '  "certificate" with the demo client certificate for mail.demo.example (its CA is the demo\'s tls.clientCa):\n' +
      `    swaks --server 127.0.0.1:${smtp.port} --tls --tls-cert ${tls}/demo-client.pem --tls-key ${tls}/demo-client.key --from '<>' --to someone@example.com\n` +
      '  then see the queue with:  npx relaygate queue list\n',
  );
});

test('the demo client certificate is for mail.demo.example, for client authentication, signed by the demo client CA', () => {
  const tls = relay.demo!.tls!;
  const ca = new X509Certificate(readFileSync(tls.clientCa));
  const client = new X509Certificate(readFileSync(tls.clientCert));
  assert.equal(client.subject, 'CN=mail.demo.example');
  assert.equal(client.subjectAltName, 'DNS:mail.demo.example');
  assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey), 'signed by the demo client CA');
  assert.equal(ca.ca, true);
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
});

test('the printed IP-connector command relays: exact 250', async () => {
  const [ip] = printedSwaks();
  assert.ok(ip && !ip.includes('--tls'), banner);
  const r = await swaks(ip);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /\n<- {2}250 2\.0\.0 OK <\w{20}>\n/);
});

test('the printed certificate command relays a null-sender bounce (exact 250), which the same command without the certificate cannot', async () => {
  const cert = printedSwaks()[1];
  assert.ok(cert?.includes('--tls-cert'), banner);
  const r = await swaks(cert);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /\n ~> MAIL FROM:<>\n<~ {2}250 2\.1\.0 Sender OK\n ~> RCPT TO:<someone@example\.com>\n<~ {2}250 2\.1\.5 Recipient OK\n/);
  const id = /\n<~ {2}250 2\.0\.0 OK <(\w{20})>\n/.exec(r.output)?.[1];
  assert.ok(id, r.output);
  const text = await bodyText(stores.bodies, id);
  assert.ok(text, 'queued');
  assert.match(text, /\r\n\t\(Client CN "mail\.demo\.example", Issuer "relaygate demo client CA" \(verified OK\)\)\r\n/, 'Received: names the certificate');
  assert.match(text, /\r\nX-Relaygate-Connector: certificate\r\n/);

  const withoutCertificate = cert.filter((w, i, all) => !['--tls-cert', '--tls-key'].includes(w) && !['--tls-cert', '--tls-key'].includes(all[i - 1]!));
  const refused = await swaks(withoutCertificate);
  assert.match(refused.output, /\n<~\* 550 5\.7\.64 TenantAttribution; Relay Access Denied\n/, refused.output);
});

test('check in the demo directory judges the demo client certificate against the demo client CA, and agrees with the live demo', async () => {
  const tls = relay.demo!.tls!;
  const eml = join(dir, 'ndr.eml');
  writeFileSync(eml, 'Return-Path: <>\r\nFrom: postmaster@demo.example\r\nTo: someone@example.com\r\nSubject: Undeliverable\r\n\r\nx\r\n');
  const r = await runCliCaptured(['check', '--eml', eml, '--ip', '127.0.0.1', '--cert', tls.clientCert], { env: {}, cwd: dir });
  const lines = r.stdout.split('\n');
  assert.equal(lines[1], `Client certificate judged against the demo's client CA ${tls.clientCa}, as the demo relay does`, r.stdout);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\bcertificate\b[\s\S]*\brelay\b/, 'the certificate connector relays it, as the live demo did');
  const doc = JSON.parse((await runCliCaptured(['check', '--eml', eml, '--ip', '127.0.0.1', '--cert', tls.clientCert, '--json'], { env: {}, cwd: dir })).stdout) as {
    connector: string; recipients: Array<{ verdict: string }>; trustStore: string;
  };
  assert.deepEqual([doc.connector, doc.recipients.map((x) => x.verdict), doc.trustStore], ['certificate', ['relay'], `the demo's client CA ${tls.clientCa}, as the demo relay does`]);
});

test('a second start keeps the demo files; a data directory without the client files gets them', async () => {
  const tls = relay.demo!.tls!;
  const before = readFileSync(tls.clientCert, 'utf8');
  const { demoTlsFiles } = await import('../../src/app/demo-tls.js');
  assert.equal(readFileSync(demoTlsFiles(join(dir, 'data'), 'x').clientCert, 'utf8'), before, 'made once, then reused');
  const old = mkdtempSync(join(tmpdir(), 'relaygate-demo-old-'));
  try {
    const serverOnly = demoTlsFiles(old, 'x');
    rmSync(serverOnly.clientCert);
    const again = demoTlsFiles(old, 'x');
    assert.equal(readFileSync(again.cert, 'utf8'), readFileSync(serverOnly.cert, 'utf8'), 'the server certificate is kept');
    assert.equal(new X509Certificate(readFileSync(again.clientCert)).subject, 'CN=mail.demo.example');
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
});
