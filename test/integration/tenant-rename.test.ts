/**
 * A tenant keeps its settings when it is renamed, by case (`demo` → `Demo`) and by name (`Demo` →
 * `acme`, the exported file keeping the id): `relaygate serve` keeps signing with its DKIM key,
 * sending through its outbound route, rewriting with its SRS domain and holding it to its daily
 * quota. Removing the tenant leaves none of its rows behind. Everything is driven through the
 * built binary and real SMTP on loopback; DNS points at a closed port, so only the tenant's route
 * can deliver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';

const QUOTA = 10;
let dir: string;
let receiver: SmtpReceiver;
let serve: ServeProcess | null = null;
let txt = '';

const relaygate = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  runRelaygate([...args, '--config', 'relaygate.yaml'], dir);

/** Waits, bounded, for the receiver to hold a message with this subject. */
async function receivedWithSubject(subject: string, waitMs = 15_000): Promise<ReceivedMessage | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const m = receiver.messages.find((x) => x.body.toString('latin1').includes(`\r\nSubject: ${subject}\r\n`));
    if (m || Date.now() > deadline) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function send(from: string, to: string[], subject: string): Promise<string[]> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve!.ports.get('plain')! });
  try {
    await c.read();
    await c.command('EHLO app.demo.example');
    const replies = [await c.command(`MAIL FROM:<${from}>`)];
    for (const r of to) replies.push(await c.command(`RCPT TO:<${r}>`));
    if (replies.some((r) => r.startsWith('250 2.1.5'))) {
      replies.push(await c.command('DATA'));
      replies.push(await c.command(`From: App <app@demo.example>\r\nTo: ${to[0]}\r\nSubject: ${subject}\r\n\r\nHello.\r\n.`));
    }
    await c.command('QUIT');
    return replies;
  } finally {
    c.close();
  }
}

/**
 * Relays one message as the tenant and one with a foreign envelope sender (relayed under the legacy
 * rule set because its header From is the tenant's, so SRS rewrites it); checks each setting.
 */
async function settingsStillApply(phase: string, tenant: string): Promise<void> {
  const relayed = await send('app@demo.example', ['bob@external.example'], `relay ${phase}`);
  assert.match(relayed.at(-1)!, /^250 2\.0\.0 OK/, `${phase}: ${relayed.join(' | ')}`);
  const m = await receivedWithSubject(`relay ${phase}`);
  assert.ok(m, `${phase}: the tenant's route delivered the message (no MX could)`);
  assert.equal(m.user, 'demo-route', `${phase}: with the route's AUTH user`);
  assert.match(m.body.toString('latin1'), new RegExp(`\\r\\nX-Relaygate-Tenant: ${tenant}\\r\\n`));
  const verified = await dkimVerify(m.body, { resolver: async (name: string) => (name === 's1._domainkey.demo.example' ? [[txt]] : []) });
  assert.deepEqual(verified.results.map((r) => [r.status.result, r.signingDomain]), [['pass', 'demo.example']], `${phase}: signed with the tenant's key`);

  const foreign = await send('news@foreign.example', ['reader@external.example'], `srs ${phase}`);
  assert.match(foreign.at(-1)!, /^250 2\.0\.0 OK/, `${phase}: ${foreign.join(' | ')}`);
  const s = await receivedWithSubject(`srs ${phase}`);
  assert.ok(s, `${phase}: delivered`);
  assert.match(s.from, /^SRS0=[^=]+=[^=]+=foreign\.example=news@bounces\.demo\.example$/, `${phase}: the tenant's SRS rewrite domain`);
}

async function renameTo(from: string, to: string): Promise<void> {
  const exported = await relaygate('export');
  assert.equal(exported.code, 0, exported.stderr);
  writeFileSync(join(dir, 'renamed.yaml'), exported.stdout.replace(`  - name: ${from}\n`, `  - name: ${to}\n`));
  const applied = await relaygate('apply', '-f', 'renamed.yaml');
  assert.deepEqual([applied.code, applied.stdout], [0, `~ tenant ${to}: name ${from} → ${to}\n1 change applied\n`], applied.stderr);
  // The running server checks the directory and the tenant settings for changes once a second. A
  // fixed wait on purpose: what would show the rename is a recipient decided under the new name,
  // and each such recipient is counted against the quota this test measures.
  await new Promise((r) => setTimeout(r, 1_100));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-rename-'));
  receiver = new SmtpReceiver({ auth: { user: 'demo-route', pass: 'route-secret' } });
  const port = await receiver.start();
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    'hostname: relay.test\ndataDir: ./data\nlisteners:\n  - { name: plain, address: "127.0.0.1:0", tls: none }\n' +
      'delivery:\n  dns: { servers: ["127.0.0.1:9"], timeout: 1s }\n',
  );
  writeFileSync(
    join(dir, 'tenants.yaml'),
    'tenants:\n  - name: demo\n    relayRuleSet: legacy\n    acceptedDomains:\n      - { domain: demo.example }\n' +
      '    inboundConnectors:\n      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }\n',
  );
  const setup = [
    ['apply', '-f', 'tenants.yaml'],
    ['route', 'add', 'demo', '--domain', 'external.example', '--host', `127.0.0.1:${port}`, '--tls', 'none',
      '--auth-user', 'demo-route', '--auth-pass', 'route-secret'],
    ['srs', 'set', 'demo', '--rewrite-domain', 'bounces.demo.example'],
    ['quota', 'set', 'demo', String(QUOTA)],
    ['headers', 'set', 'demo', '--relayed', 'keep'],
  ];
  for (const args of setup) {
    const r = await relaygate(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const key = await relaygate('dkim', 'generate', '--tenant', 'demo', '--domain', 'demo.example', '--selector', 's1', '--json');
  assert.equal(key.code, 0, key.stderr);
  txt = (JSON.parse(key.stdout) as { txt: string }).txt;
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
});

after(async () => {
  await serve?.stop();
  await receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('renamed by case and by name, a tenant keeps its DKIM key, route, SRS domain and quota', async () => {
  await settingsStillApply('before', 'demo');
  await renameTo('demo', 'Demo');
  await settingsStillApply('by case', 'Demo');
  assert.match((await relaygate('export')).stdout, /^ {2}- name: Demo\n {4}id: [0-9A-HJKMNP-TV-Z]{26}\n/m, 'the export carries the id');
  await renameTo('Demo', 'acme');
  await settingsStillApply('by name', 'acme');

  const shown = await relaygate('quota', 'show', 'ACME', '--json');
  const quota = JSON.parse(shown.stdout) as { tenant: string; dailyLimit: number; recipients: number };
  assert.deepEqual([quota.tenant, quota.dailyLimit], ['acme', QUOTA], shown.stderr);
  const left = QUOTA - quota.recipients;
  assert.ok(left > 0 && left < QUOTA, `recipients counted under all three names: ${quota.recipients}`);
  const rcpts = Array.from({ length: left + 1 }, (_, i) => `r${i}@external.example`);
  const replies = await send('app@demo.example', rcpts, 'quota');
  assert.deepEqual(replies.slice(1, left + 2), [...rcpts.slice(0, left).map(() => '250 2.1.5 Recipient OK'), '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC']);

  assert.equal((await relaygate('route', 'list', '--tenant', 'acme')).code, 0);
  assert.match((await relaygate('dkim', 'list', '--tenant', 'acme')).stdout, /^acme {2}demo\.example {2}s1 {2}rsa\n$/);
  assert.match((await relaygate('srs', 'show', 'acme')).stdout, /\nacme {4}enabled {2}bounces\.demo\.example\n$/);
  assert.equal((await relaygate('headers', 'show', 'acme')).stdout, 'TENANT  RELAYED\nacme    keep\n');
});

test('removing the tenant removes every row that belonged to it', async () => {
  assert.equal((await relaygate('tenant', 'remove', 'acme')).code, 0);
  const db = new Database(join(dir, 'data', 'relaygate.db'), { readonly: true });
  try {
    const counts = ['dkim_keys', 'outbound_routes', 'srs_settings', 'tenant_limits', 'relayed_header_settings', 'tenant_recipient_counts', 'accepted_domains', 'inbound_connectors', 'tenants'].map(
      (table) => [table, (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n],
    );
    assert.deepEqual(counts.filter(([, n]) => n !== 0), [], readFileSync(join(dir, 'tenants.yaml'), 'utf8'));
  } finally {
    db.close();
  }
});
