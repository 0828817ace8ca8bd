/**
 * Our X-Relaygate-* fields on delivered mail: a tenant's relayed mail goes to outside recipients
 * without them (unless the tenant chose to keep them), removed before DKIM signing so the signature
 * verifies; the tenant's own (internal) recipients get them, as inbound mail does.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTransport } from 'nodemailer';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { Resolver } from 'node:dns/promises';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { TestDnsServer } from '../support/dns-server.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';
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
let settings: SqliteTenantSettingsStore;
const demoId = demoDirectory.tenants[0]!.id;
const dns = new TestDnsServer();
const outside = new SmtpReceiver();
const demoMx = new SmtpReceiver();
let dnsAddress = '';

before(async () => {
  relay = await startHarness({ directory: demoDirectory });
  dnsAddress = await dns.start();
  const port = await outside.start('127.0.0.1');
  await demoMx.start('127.0.0.2', port);
  dns
    .set('remote.test', { MX: [{ preference: 5, exchange: 'mx.remote.test' }] })
    .set('mx.remote.test', { A: ['127.0.0.1'] })
    .set('demo.example', { MX: [{ preference: 5, exchange: 'mx.demo.example' }] })
    .set('mx.demo.example', { A: ['127.0.0.2'] });
  await new SqliteDirectoryStore(relay.db).replace(demoDirectory);
  settings = new SqliteTenantSettingsStore(relay.db);
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
  const key = { domain: 'demo.example', selector: 'hdr', algorithm: 'rsa' as const, ...generateDkimKey('rsa') };
  await settings.putDkimKey({ tenantId: demoId, ...key, active: true, createdAt: Date.now() });
  dns.set(dkimRecordName('hdr', 'demo.example'), { TXT: [dkimTxtRecord(key)] });
});

after(async () => {
  await delivery.stop();
  await relay.stop();
  await outside.stop();
  await demoMx.stop();
  await dns.stop();
});

async function relayMessage(subject: string, to: string[]): Promise<void> {
  const transport = createTransport({ host: '127.0.0.1', port: relay.port('smtp'), secure: false, ignoreTLS: true });
  await transport.sendMail({ from: 'App <app@demo.example>', to, subject, text: 'Hello through relaygate.', envelope: { from: 'app@demo.example', to } });
  transport.close();
}

function headerBlock(m: ReceivedMessage): string {
  const text = m.body.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n') + 2);
}

async function dkimResults(m: ReceivedMessage): Promise<string[][]> {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([dnsAddress]);
  const verified = await dkimVerify(m.body, { resolver: (name: string) => r.resolveTxt(name) });
  return verified.results.map((x) => [x.status.result, x.signingDomain ?? '']);
}

const ours = /^X-Relaygate-[^:]*:/gim;

test('relayed mail reaches the outside recipient without X-Relaygate-* and with a DKIM signature that verifies; the internal recipient keeps them', async () => {
  await relayMessage('default', ['bob@remote.test', 'carol@demo.example']);
  const pass = await delivery.runOnce();
  assert.deepEqual({ delivered: pass.delivered, failed: pass.failed }, { delivered: 2, failed: 0 });

  const relayed = outside.messages.find((m) => m.recipients.some((r) => r.address === 'bob@remote.test'));
  assert.ok(relayed, 'delivered to the outside MX');
  assert.deepEqual(headerBlock(relayed).match(ours), null, headerBlock(relayed));
  assert.match(headerBlock(relayed), /^DKIM-Signature: [^]*\r\nReceived: from [^]*\r\nSubject: default\r\n/);
  assert.deepEqual(await dkimResults(relayed), [['pass', 'demo.example']]);

  const internal = demoMx.messages.find((m) => m.recipients.some((r) => r.address === 'carol@demo.example'));
  assert.ok(internal, "delivered to the tenant's own MX");
  assert.deepEqual(headerBlock(internal).match(ours), [
    'X-Relaygate-Tenant:', 'X-Relaygate-Connector:', 'X-Relaygate-Attribution:', 'X-Relaygate-Directionality:',
  ]);
  assert.match(headerBlock(internal), /\r\nX-Relaygate-Tenant: demo\r\n/);
  assert.deepEqual(await dkimResults(internal), [['pass', 'demo.example']]);
  // The body is the same in both.
  const bodyOf = (m: ReceivedMessage): string => m.body.toString('latin1').slice(m.body.toString('latin1').indexOf('\r\n\r\n'));
  assert.equal(bodyOf(relayed), bodyOf(internal));
});

test('with the tenant keeping them, relayed mail carries X-Relaygate-* to the outside recipient, and the signature still verifies', async () => {
  await settings.setRelayedHeaders(demoId, true);
  await relayMessage('kept', ['dave@remote.test']);
  const pass = await delivery.runOnce();
  assert.deepEqual({ delivered: pass.delivered, failed: pass.failed }, { delivered: 1, failed: 0 });
  const relayed = outside.messages.find((m) => m.recipients.some((r) => r.address === 'dave@remote.test'));
  assert.ok(relayed);
  assert.match(headerBlock(relayed), /\r\nX-Relaygate-Tenant: demo\r\nX-Relaygate-Connector: [^\r\n]+\r\nX-Relaygate-Attribution: [^\r\n]+\r\nX-Relaygate-Directionality: Originating\r\n/);
  assert.deepEqual(await dkimResults(relayed), [['pass', 'demo.example']]);
});
