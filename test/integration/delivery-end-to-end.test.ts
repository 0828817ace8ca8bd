/**
 * The "done when", end to end: a client relays through the real SMTP front end as the demo
 * tenant; delivery finds the receiving server by MX, signs with the tenant's DKIM key, and a 5xx
 * destination bounces at once with a DSN delivered back to the sender's MX.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTransport } from 'nodemailer';
import { simpleParser } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { Resolver } from 'node:dns/promises';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { TestDnsServer } from '../support/dns-server.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { demoDirectory } from '../../src/directory/index.js';
import { SnapshotCache } from '../../src/smtp/policy-source.js';
import { DeliveryService, acceptedDomainCheck } from '../../src/app/delivery.js';
import { SqliteSrsMintedStore } from '../../src/store/sqlite/srs-minted-store.js';
import { dkimRecordName, dkimTxtRecord, generateDkimKey } from '../../src/delivery/dkim.js';
import { SqliteDirectoryStore } from '../../src/store/sqlite/directory-store.js';
import { SqliteServerSecrets } from '../../src/store/sqlite/server-secrets.js';
import { SqliteTenantSettingsStore } from '../../src/store/sqlite/tenant-settings-store.js';
import { TenantSettingsCache } from '../../src/store/tenant-settings-snapshot.js';

let relay: Harness;
let delivery: DeliveryService;
const dns = new TestDnsServer();
const remote = new SmtpReceiver({ rcpt: (to) => (to.startsWith('nobody@') ? { code: 550, text: '5.1.1 no such user' } : 'accept') });
const senderMx = new SmtpReceiver();
let dnsAddress = '';

before(async () => {
  relay = await startHarness({ directory: demoDirectory });
  dnsAddress = await dns.start();
  const port = await remote.start('127.0.0.1');
  await senderMx.start('127.0.0.2', port);
  dns
    .set('remote.test', { MX: [{ preference: 5, exchange: 'mx.remote.test' }] })
    .set('mx.remote.test', { A: ['127.0.0.1'] })
    .set('demo.example', { MX: [{ preference: 5, exchange: 'mx.demo.example' }] })
    .set('mx.demo.example', { A: ['127.0.0.2'] });
  // The tenant settings need their tenants in the store.
  await new SqliteDirectoryStore(relay.db).replace(demoDirectory);
  const settings = new SqliteTenantSettingsStore(relay.db);
  const snapshots = new SnapshotCache({ load: async () => demoDirectory, revision: async () => 1 });
  delivery = new DeliveryService({
    queue: relay.queue,
    nodeId: 'test-node',
    bodies: relay.bodies,
    settings: new TenantSettingsCache(settings, snapshots),
    srsSecret: await new SqliteServerSecrets(relay.db).secret('srs', Date.now()),
    hostname: 'relay.test',
    delivery: { retry: [60_000], expireAfter: 86_400_000, delayNotifyAfter: 14_400_000, dns: { servers: [dnsAddress], timeout: 1000 }, routes: [], allowLocalAddresses: true },
    senderDomainAccepted: acceptedDomainCheck(snapshots),
    srsMinted: new SqliteSrsMintedStore(relay.db),
    mxPort: port,
  });
  const key = { domain: 'demo.example', selector: 'e2e', algorithm: 'rsa' as const, ...generateDkimKey('rsa') };
  await settings.putDkimKey({ tenantId: demoDirectory.tenants[0]!.id, ...key, active: true, createdAt: Date.now() });
  // Relayed mail keeps our X-Relaygate-* fields only when the tenant chose it; the test checks them.
  await settings.setRelayedHeaders(demoDirectory.tenants[0]!.id, true);
  dns.set(dkimRecordName('e2e', 'demo.example'), { TXT: [dkimTxtRecord(key)] });
});

after(async () => {
  await delivery.stop();
  await relay.stop();
  await remote.stop();
  await senderMx.stop();
  await dns.stop();
});

async function relayMessage(to: string[]): Promise<void> {
  const transport = createTransport({ host: '127.0.0.1', port: relay.port('smtp'), secure: false, ignoreTLS: true });
  await transport.sendMail({ from: 'App <app@demo.example>', to, subject: 'end to end', text: 'Hello through relaygate.', envelope: { from: 'app@demo.example', to } });
  transport.close();
}

test('relayed as the demo tenant, found by MX, DKIM-signed; a 5xx recipient bounces back at once', async () => {
  await relayMessage(['bob@remote.test', 'nobody@remote.test']);
  const first = await delivery.runOnce();
  assert.deepEqual({ delivered: first.delivered, failed: first.failed, dsns: first.dsns }, { delivered: 1, failed: 1, dsns: 1 });

  assert.equal(remote.messages.length, 1);
  const got = remote.messages[0]!;
  assert.equal(got.from, 'app@demo.example');
  assert.deepEqual(got.recipients.map((r) => r.address), ['bob@remote.test']);
  assert.match(got.body.toString(), /^DKIM-Signature: [^]*\r\nReceived: from [^]*X-Relaygate-Tenant: demo\r\n/);
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([dnsAddress]);
  const verified = await dkimVerify(got.body, { resolver: (name: string) => r.resolveTxt(name) });
  assert.deepEqual(verified.results.map((x) => [x.status.result, x.signingDomain]), [['pass', 'demo.example']]);

  await delivery.runOnce();
  assert.equal(senderMx.messages.length, 1, 'the DSN went to the sender’s MX');
  const dsn = senderMx.messages[0]!;
  assert.equal(dsn.from, '');
  assert.deepEqual(dsn.recipients.map((x) => x.address), ['app@demo.example']);
  const parsed = await simpleParser(dsn.body, { keepDeliveryStatus: true });
  const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status')?.content.toString() ?? '';
  assert.match(status, /Final-Recipient: rfc822; nobody@remote\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.remote\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 no such user\r\n/);
  assert.deepEqual(await relay.queued(), [], 'nothing left in the queue');
});
