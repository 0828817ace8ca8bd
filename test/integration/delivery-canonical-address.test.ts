/**
 * The address relaygate decides on is the address it forwards: a domain written in fullwidth
 * letters, in upper case or as a U-label is judged in its canonical A-label form, and that form is
 * what the next hop receives in MAIL FROM and RCPT TO.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { TestDnsServer } from '../support/dns-server.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { DeliveryService } from '../../src/app/delivery.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { SqliteDirectoryStore } from '../../src/store/sqlite/directory-store.js';
import { SqliteSrsMintedStore } from '../../src/store/sqlite/srs-minted-store.js';
import { SqliteServerSecrets } from '../../src/store/sqlite/server-secrets.js';
import { SqliteTenantSettingsStore } from '../../src/store/sqlite/tenant-settings-store.js';
import { TenantSettingsCache } from '../../src/store/tenant-settings-snapshot.js';

let relay: Harness;
let delivery: DeliveryService;
const dns = new TestDnsServer();
/** bücher.test: a next hop without SMTPUTF8 (an A-label envelope needs none). */
const ascii = new SmtpReceiver({ smtputf8: false });
/** remote.test and müller.test: a next hop with SMTPUTF8, for transactions that declared it. */
const utf8Hop = new SmtpReceiver();
/** contoso's id: decisions and queued messages name the tenant by it (the store holds the directory too). */
const CONTOSO = '01JH0000000000000000000001';
const directory = parseDirectoryYaml(testDirectoryYaml);
directory.tenants = directory.tenants.map((t) => (t.name === 'contoso' ? { ...t, id: CONTOSO } : t));

before(async () => {
  relay = await startHarness({ directory });
  await new SqliteDirectoryStore(relay.db).replace(directory);
  const dnsAddress = await dns.start();
  const port = await ascii.start('127.0.0.1');
  await utf8Hop.start('127.0.0.2', port);
  dns
    .set('remote.test', { MX: [{ preference: 10, exchange: 'mx.remote.test' }] })
    .set('mx.remote.test', { A: ['127.0.0.2'] })
    .set('xn--bcher-kva.test', { MX: [{ preference: 10, exchange: 'mx.xn--bcher-kva.test' }] })
    .set('mx.xn--bcher-kva.test', { A: ['127.0.0.1'] })
    .set('xn--mller-kva.test', { MX: [{ preference: 10, exchange: 'mx.xn--mller-kva.test' }] })
    .set('mx.xn--mller-kva.test', { A: ['127.0.0.2'] });
  delivery = new DeliveryService({
    queue: relay.queue,
    nodeId: 'test-node',
    bodies: relay.bodies,
    // No tenant settings here: no DKIM key, route or SRS change for any tenant.
    settings: new TenantSettingsCache(new SqliteTenantSettingsStore(relay.db), { snapshot: async () => ({ tenants: [] }) }),
    srsSecret: await new SqliteServerSecrets(relay.db).secret('srs', Date.now()),
    hostname: 'relay.test',
    delivery: { retry: [60_000], expireAfter: 86_400_000, delayNotifyAfter: 14_400_000, dns: { servers: [dnsAddress], timeout: 1000 }, routes: [], allowLocalAddresses: true },
    senderDomainAccepted: async (tenantId, domain) => tenantId === CONTOSO && domain === 'contoso.example',
    srsMinted: new SqliteSrsMintedStore(relay.db),
    mxPort: port,
  });
});

after(async () => {
  await delivery.stop();
  await relay.stop();
  await ascii.stop();
  await utf8Hop.stop();
  await dns.stop();
});

/** One transaction from contoso's application host; the lines are sent as UTF-8. */
async function send(mailFrom: string, recipients: string[]): Promise<string[]> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: relay.port('smtp') });
  await c.read();
  await c.command('EHLO app.contoso.example');
  const line = async (l: string): Promise<string> => {
    c.write(Buffer.from(l + '\r\n', 'utf8'));
    return c.read();
  };
  const replies = [await line(mailFrom)];
  for (const r of recipients) replies.push(await line(r));
  replies.push(await c.command('DATA'));
  c.write('From: app@contoso.example\r\nSubject: canonical\r\n\r\nbody\r\n.\r\n');
  replies.push(await c.read());
  await c.command('QUIT');
  c.close();
  return replies;
}

const envelopeLines = (r: SmtpReceiver): string[] => r.commandLines.filter((l) => /^(MAIL FROM|RCPT TO):/i.test(l));

test('a fullwidth domain is judged as contoso.example and forwarded as contoso.example, not in its fullwidth form', async () => {
  const replies = await send('MAIL FROM:<app@ｃｏｎｔｏｓｏ.example> SMTPUTF8', ['RCPT TO:<user@ＲＥＭＯＴＥ.test>', 'RCPT TO:<user@remote.test>']);
  assert.deepEqual(replies.slice(0, 4), ['250 2.1.0 Sender OK', '250 2.1.5 Recipient OK', '250 2.1.5 Recipient OK', '354 End data with <CR><LF>.<CR><LF>']);
  assert.match(replies.at(-1)!, /^250 2\.0\.0 OK </);
  const id = /<([0-9a-z]+)>$/.exec(replies.at(-1)!)?.[1];
  assert.ok(id);
  const queued = await relay.entry(id);
  assert.deepEqual(queued?.recipients.map((r) => r.address), ['user@remote.test'], 'two spellings of one mailbox are one recipient');

  const before = utf8Hop.messages.length;
  await delivery.runOnce();
  assert.equal(utf8Hop.messages.length, before + 1);
  const got = utf8Hop.messages.at(-1)!;
  assert.equal(got.from, 'app@contoso.example');
  assert.deepEqual(got.recipients.map((r) => r.address), ['user@remote.test']);
  assert.match(envelopeLines(utf8Hop).at(-2)!, /^MAIL FROM:<app@contoso\.example>/);
  assert.match(envelopeLines(utf8Hop).at(-1)!, /^RCPT TO:<user@remote\.test>/);
  assert.match(got.body.toString(), /for <user@remote\.test>;/, 'the Received header names the forwarded form');
});

test('an A-label recipient from an ASCII client is forwarded as the A-label, without SMTPUTF8', async () => {
  const replies = await send('MAIL FROM:<app@contoso.example>', ['RCPT TO:<Bob@XN--BCHER-KVA.test>']);
  assert.equal(replies[1], '250 2.1.5 Recipient OK');
  assert.match(replies.at(-1)!, /^250 2\.0\.0 OK </);
  const before = ascii.messages.length;
  await delivery.runOnce();
  assert.equal(ascii.messages.length, before + 1, 'delivered to a next hop without SMTPUTF8');
  assert.equal(envelopeLines(ascii).at(-1), 'RCPT TO:<Bob@xn--bcher-kva.test>');
  assert.doesNotMatch(envelopeLines(ascii).at(-2)!, /SMTPUTF8/);
});

test('a U-label recipient (with SMTPUTF8) is forwarded as its A-label', async () => {
  const replies = await send('MAIL FROM:<app@contoso.example> SMTPUTF8', ['RCPT TO:<bob@müller.test>']);
  assert.equal(replies[1], '250 2.1.5 Recipient OK');
  assert.match(replies.at(-1)!, /^250 2\.0\.0 OK </);
  const before = utf8Hop.messages.length;
  await delivery.runOnce();
  assert.equal(utf8Hop.messages.length, before + 1);
  assert.equal(envelopeLines(utf8Hop).at(-1), 'RCPT TO:<bob@xn--mller-kva.test>');
});
