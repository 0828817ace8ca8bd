/**
 * `relaygate serve` as a real process, driven by Debian's swaks and the raw client: relaying,
 * refusals, client certificates, PROXY v1/v2, the queue listing, durability across a kill right
 * after the 250, and TLS reload on SIGHUP.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { runRelaygate, spawnRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { testDirectoryYaml } from '../support/test-directory.js';

let dir: string;
let pki: TestPki;
let serve: ServeProcess;
const listeners = ['smtp', 'smtps', 'plain'];

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--timeout', '20', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

const server = (name: string) => `127.0.0.1:${serve.ports.get(name)}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-serve-'));
  pki = createTestPki();
  copyFileSync(pki.server.certPath, join(dir, 'server.pem'));
  copyFileSync(pki.server.keyPath, join(dir, 'server.key'));
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `hostname: relay.test
dataDir: ./data
listeners:
  - { name: smtp, address: "127.0.0.1:0", tls: starttls }
  - { name: smtps, address: "127.0.0.1:0", tls: implicit }
  - { name: plain, address: "127.0.0.1:0", tls: none }
tls: { cert: server.pem, key: server.key, clientCa: ${pki.ca.certPath} }
proxy: { trusted: ["127.0.0.9/32"] }
# These tests look at what was accepted and queued; delivery (which would ask DNS) stays off.
delivery: { enabled: false }
`,
  );
  writeFileSync(join(dir, 'tenants.yaml'), testDirectoryYaml);
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  serve = await startServe(['--config', 'relaygate.yaml'], dir, listeners);
});

after(async () => {
  await serve?.stop();
  pki?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('swaks relays from 127.0.0.1 and gets 250 2.0.0 OK <id>; queue list shows it', async () => {
  const r = await swaks(['--server', server('smtp'), '--from', 'app@contoso.example', '--to', 'someone@elsewhere.example']);
  assert.equal(r.code, 0, r.output);
  const id = /<[-~] {2}250 2\.0\.0 OK <(\w{20})>/.exec(r.output)?.[1];
  assert.ok(id, r.output);
  const list = await runRelaygate(['queue', 'list', '--json', '--config', 'relaygate.yaml'], dir);
  assert.equal(list.code, 0, list.stderr);
  const entries = JSON.parse(list.stdout) as Array<{ id: string; tenant: string; recipients: Array<{ address: string; state: string }> }>;
  const entry = entries.find((e) => e.id === id);
  assert.equal(entry?.tenant, 'contoso');
  assert.deepEqual(entry?.recipients.map((r) => [r.address, r.state]), [['someone@elsewhere.example', 'queued']]);
  const human = await runRelaygate(['queue', 'list', '--config', 'relaygate.yaml'], dir);
  assert.match(human.stdout, new RegExp(`^${id} .* contoso  <app@contoso\\.example>`, 'm'));
  assert.match(human.stdout, /^ {4}someone@elsewhere\.example {2}queued {2}next \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z(?: \(due\))?$/m);
});

test('swaks from an address nobody owns gets 550 5.7.64 (STARTTLS too)', async () => {
  for (const extra of [[], ['-tls']]) {
    const r = await swaks(['--server', server('smtp'), '--local-interface', '127.0.0.4', '--from', 'x@stranger.example', '--to', 'victim@elsewhere.example', ...extra]);
    assert.match(r.output, /<(?:\*\*|~\*) 550 5\.7\.64 TenantAttribution; Relay Access Denied/, r.output);
  }
});

test('swaks with a client certificate over STARTTLS and implicit TLS relays a null sender', async () => {
  const cert = pki.client('swaks', { cn: 'relay.contoso.example' });
  const wrong = pki.client('swaks-wrong-ca', { cn: 'relay.contoso.example', signer: 'other' });
  for (const mode of [['-tls'], ['-tlsc']]) {
    const port = mode[0] === '-tls' ? server('smtp') : server('smtps');
    const ok = await swaks(['--server', port, '--local-interface', '127.0.0.4', ...mode, '--tls-cert', cert.certPath, '--tls-key', cert.keyPath, '--from', '<>', '--to', 'user@elsewhere.example']);
    assert.match(ok.output, /<[-~] {2}250 2\.0\.0 OK <\w{20}>/, ok.output);
    const bad = await swaks(['--server', port, '--local-interface', '127.0.0.4', ...mode, '--tls-cert', wrong.certPath, '--tls-key', wrong.keyPath, '--from', '<>', '--to', 'user@elsewhere.example']);
    assert.match(bad.output, /<(?:\*\*|~\*) 550 5\.7\.64 TenantAttribution; Relay Access Denied/, bad.output);
  }
});

test('PROXY v1 and v2 from a trusted proxy carry the client address; from anyone else they are refused', async () => {
  for (const version of ['1', '2']) {
    const proxied = ['--proxy-version', version, '--proxy-family', version === '1' ? 'TCP4' : 'AF_INET', '--proxy-source-port', '40000', '--proxy-dest', '127.0.0.1', '--proxy-dest-port', '25'];
    // The trusted proxy (127.0.0.9) speaks for 127.0.0.1, an address of contoso's connector.
    const ok = await swaks(['--server', server('plain'), '--local-interface', '127.0.0.9', ...proxied, '--proxy-source', '127.0.0.1', '--from', 'app@contoso.example', '--to', 'a@elsewhere.example']);
    assert.match(ok.output, /<[-~] {2}250 2\.0\.0 OK <\w{20}>/, ok.output);
    // ... and for 127.0.0.4, nobody's.
    const denied = await swaks(['--server', server('plain'), '--local-interface', '127.0.0.9', ...proxied, '--proxy-source', '127.0.0.4', '--from', 'app@contoso.example', '--to', 'a@elsewhere.example']);
    assert.match(denied.output, /<(?:\*\*|~\*) 550 5\.7\.64 TenantAttribution; Relay Access Denied/, denied.output);
    // An untrusted peer may not claim an address.
    const refused = await swaks(['--server', server('plain'), '--local-interface', '127.0.0.4', ...proxied, '--proxy-source', '127.0.0.1', '--from', 'app@contoso.example', '--to', 'a@elsewhere.example']);
    assert.match(refused.output, /421 4\.7\.0 PROXY protocol not accepted from this address/, refused.output);
  }
  // A trusted proxy that sends no PROXY header is a protocol error.
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve.ports.get('plain')!, localAddress: '127.0.0.9', preamble: Buffer.from('EHLO direct.example\r\n') });
  assert.equal(await c.read(), '421 4.7.0 Invalid PROXY protocol header');
  await c.closed();
});

test('PROXY v2 in front of implicit TLS', async () => {
  const ok = await swaks(['--server', server('smtps'), '-tlsc', '--local-interface', '127.0.0.9', '--proxy-version', '2', '--proxy-family', 'AF_INET', '--proxy-source', '127.0.0.1', '--proxy-source-port', '4000', '--proxy-dest', '127.0.0.1', '--proxy-dest-port', '465', '--from', 'app@contoso.example', '--to', 'a@elsewhere.example']);
  assert.match(ok.output, /<[-~] {2}250 2\.0\.0 OK <\w{20}>/, ok.output);
});

test('SIGHUP reloads the TLS certificate for new sessions', async () => {
  const fingerprint = () =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: serve.ports.get('smtps')!, rejectUnauthorized: false }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.destroy();
      });
      s.once('error', reject);
    });
  const before = await fingerprint();
  assert.equal(before, new X509Certificate(readFileSync(join(dir, 'server.pem'))).fingerprint256);
  const next = pki.serverFor('next-server', 'localhost');
  copyFileSync(next.certPath, join(dir, 'server.pem'));
  copyFileSync(next.keyPath, join(dir, 'server.key'));
  serve.child.kill('SIGHUP');
  await serve.waitForStderr('TLS files reloaded');
  assert.equal(await fingerprint(), new X509Certificate(next.cert).fingerprint256);
});

test('a message answered 250 survives a kill -9 right after the reply', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve.ports.get('plain')! });
  await c.read();
  await c.command('EHLO app.contoso.example');
  await c.command('MAIL FROM:<app@contoso.example>');
  await c.command('RCPT TO:<durable@elsewhere.example>');
  await c.command('DATA');
  c.write('Subject: durable\r\n\r\nmust survive\r\n.\r\n');
  const reply = await c.read();
  serve.child.kill('SIGKILL');
  const id = /^250 2\.0\.0 OK <(\w{20})>$/.exec(reply)?.[1];
  assert.ok(id, reply);
  await serve.stop();
  serve = await startServe(['--config', 'relaygate.yaml'], dir, listeners);
  const list = await runRelaygate(['queue', 'list', '--json', '--config', 'relaygate.yaml'], dir);
  const entry = (JSON.parse(list.stdout) as Array<{ id: string; subject: string }>).find((e) => e.id === id);
  assert.equal(entry?.subject, 'durable');
  const row = (await runRelaygate(['queue', 'list', '--json', '--config', 'relaygate.yaml'], dir)).stdout;
  assert.match(row, new RegExp(id));
  const spool = readFileSync(join(dir, 'data', 'spool', id.slice(0, 5), `${id}.eml`), 'latin1');
  assert.match(spool, /\r\n\r\nmust survive\r\n$/);
});

test('serve stops at start with the field named when relaygate.yaml is invalid or TLS files are missing', async () => {
  writeFileSync(join(dir, 'bad.yaml'), 'hostname: relay.test\nlisteners:\n  - { name: smtp, address: "nowhere", tls: starttls }\n');
  const bad = await spawnRelaygate(['serve', '--config', 'bad.yaml'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /listeners\[0\]\.address: expected "host:port" or "\[ipv6\]:port", got "nowhere"/);
  writeFileSync(join(dir, 'notls.yaml'), 'hostname: relay.test\ndataDir: ./data-notls\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: starttls }\n');
  const notls = await spawnRelaygate(['serve', '--config', 'notls.yaml'], dir);
  assert.equal(notls.code, 2);
  assert.equal(notls.stderr, 'relaygate: cannot start: listener smtp: tls: starttls needs tls.cert and tls.key\n');
  writeFileSync(join(dir, 'missing.yaml'), 'hostname: relay.test\ndataDir: ./data-missing\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: starttls }\ntls: { cert: nope.pem, key: nope.key }\n');
  const missing = await spawnRelaygate(['serve', '--config', 'missing.yaml'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^relaygate: cannot start: tls\.cert \/.*nope\.pem: not found\n$/);
});

test('a port in use stops the start with one line naming the listener and the address', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    writeFileSync(join(dir, 'taken.yaml'), `hostname: relay.test\ndataDir: ./data-taken\nlisteners:\n  - { name: smtp, address: "127.0.0.1:${port}", tls: none }\n`);
    const r = await spawnRelaygate(['serve', '--config', 'taken.yaml'], dir);
    assert.deepEqual([r.code, r.stderr], [2, `relaygate: cannot start: listener smtp: cannot listen on 127.0.0.1:${port}: the address is already in use\n`]);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});
