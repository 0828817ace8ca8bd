/**
 * Webhooks of the live relay (`relaygate serve`'s composition root: listeners, policy, queue,
 * delivery, the webhook worker, SQLite) after real SMTP sessions on loopback: a relay attempt
 * refused for a tenant's connector and a message only the legacy rules relay reach the tenant's
 * receiver as signed `refused` and `legacy-only` events, a message delivered to a recording server
 * as a signed `delivered` event; another tenant's receiver gets nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { openSqliteStores, type SqliteStores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { WebhookService } from '../../src/webhooks/webhook-service.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
let stores: SqliteStores;
let relay: Awaited<ReturnType<typeof serve>>;
let port: number;
const sink = new SmtpReceiver();
const contosoHooks = new WebhookReceiver();
const saasHooks = new WebhookReceiver();
const otherHooks = new WebhookReceiver();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-webhooks-serve-'));
  const sinkPort = await sink.start('127.0.0.1');
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `hostname: relay.test
dataDir: ./data
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery:
  dns: { servers: ["127.0.0.1:9"], timeout: 1s }
  routes:
    - { domains: [external.example], host: "127.0.0.1:${sinkPort}", tls: none }
webhooks:
  allowPrivateTargets: true
  pollInterval: 20ms
`,
  );
  const config = loadConfig(join(dir, 'relaygate.yaml'), {});
  stores = openSqliteStores(config);
  await stores.directory.replace(
    parseDirectoryYaml(`
tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.example }]
    inboundConnectors:
      - { name: servers, type: OnPremises, senderIPAddresses: [127.0.0.1/32] }
  - name: saas
    relayRuleSet: legacy
    acceptedDomains: [{ domain: saas.example }]
    inboundConnectors:
      - { name: app, type: OnPremises, senderIPAddresses: [127.0.0.5/32] }
  - name: fabrikam
    acceptedDomains: [{ domain: fabrikam.example }]
`),
  );
  const service = new WebhookService({ directory: stores.directory, webhooks: stores.webhooks, clock: systemClock, allowPrivateTargets: config.webhooks.allowPrivateTargets });
  contosoHooks.secrets = [(await service.subscribe('contoso', { url: await contosoHooks.start(), events: ['refused', 'delivered'] })).secret];
  saasHooks.secrets = [(await service.subscribe('saas', { url: await saasHooks.start(), events: ['legacy-only'] })).secret];
  otherHooks.secrets = [(await service.subscribe('fabrikam', { url: await otherHooks.start(), events: ['refused', 'delivered', 'legacy-only'] })).secret];
  relay = await serve({ config, stores });
  port = relay.listeners.find((l) => l.name === 'plain')!.port;
});

after(async () => {
  await relay?.stop();
  await stores?.close();
  await Promise.all([sink.stop(), contosoHooks.stop(), saasHooks.stop(), otherHooks.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function session(from: string): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress: from });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO client.test'), /^250/);
  return c;
}

async function quit(c: RawSmtpClient): Promise<void> {
  assert.match(await c.command('QUIT'), /^221 /);
  await c.closed();
}

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { kind: string; tenant: string | null; recipient: string | null };
}

test('a refused relay attempt and a legacy-only message reach their tenants\' receivers signed, once each', async () => {
  // contoso's server tries to relay for a sender domain contoso does not accept.
  const server = await session('127.0.0.1');
  assert.equal(await server.command('MAIL FROM:<someone@elsewhere.example>'), '250 2.1.0 Sender OK');
  assert.equal(await server.command('RCPT TO:<victim@external.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  await quit(server);

  // saas relays for a customer's sender domain: only the legacy rules (header From) let it through.
  const app = await session('127.0.0.5');
  assert.equal(await app.command('MAIL FROM:<news@customer.example>'), '250 2.1.0 Sender OK');
  assert.equal(await app.command('RCPT TO:<carol@external.example>'), '250 2.1.5 Recipient OK');
  assert.match(await app.command('DATA'), /^354 /);
  assert.match(await app.command('From: news@saas.example\r\nSubject: legacy\r\n\r\nhello\r\n.'), /^250 2\.0\.0 OK /);
  await quit(app);

  const refused = await waitFor(() => [...contosoHooks.accepted.values()][0] as Body | undefined, { message: 'the refused event at contoso\'s receiver' });
  assert.equal(refused.type, 'refused');
  assert.deepEqual([refused.data.kind, refused.data.tenant, refused.data.recipient, refused.data.reply, refused.data.stage],
    ['refused', 'contoso', 'victim@external.example', '550 5.7.64 TenantAttribution; Relay Access Denied', 'rcpt']);
  assert.equal(contosoHooks.requests[0]!.verifiedBy.length, 1, 'signed with contoso\'s secret');

  const legacy = await waitFor(() => [...saasHooks.accepted.values()][0] as Body | undefined, { message: 'the legacy-only event at saas\'s receiver' });
  assert.equal(legacy.type, 'legacy-only');
  assert.deepEqual([legacy.data.kind, legacy.data.tenant, legacy.data.recipient, legacy.data.currentVerdict, legacy.data.legacyVerdict],
    ['queued', 'saas', 'carol@external.example', 'rejected', 'relay']);
  assert.equal(saasHooks.requests[0]!.verifiedBy.length, 1);

  await waitFor(() => sink.messages.length === 1, { message: 'the legacy message delivered' });
  assert.equal(contosoHooks.requests.filter((r) => JSON.parse(r.body).type === 'refused').length, 1, 'exactly once');
  assert.equal(saasHooks.requests.length, 1);
  assert.equal(otherHooks.requests.length, 0, 'another tenant hears nothing');
});

test("a message delivered to the recording server reaches the tenant's receiver as a signed delivered event", async () => {
  const server = await session('127.0.0.1');
  assert.equal(await server.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await server.command('RCPT TO:<bob@external.example>'), '250 2.1.5 Recipient OK');
  assert.match(await server.command('DATA'), /^354 /);
  const queueId = /^250 2\.0\.0 OK <([0-9a-z]+)>$/.exec(await server.command('From: app@contoso.example\r\nSubject: hooks\r\n\r\nhello\r\n.'))?.[1];
  assert.ok(queueId);
  await quit(server);
  const delivered = await waitFor(
    () => [...contosoHooks.accepted.values()].find((b) => (b as Body).type === 'delivered') as Body | undefined,
    { message: "the delivered event at contoso's receiver" },
  );
  assert.deepEqual([delivered.data.kind, delivered.data.tenant, delivered.data.recipient, delivered.data.queueId, delivered.data.status],
    ['delivered', 'contoso', 'bob@external.example', queueId, 'Delivered']);
  assert.match(String(delivered.data.reply), /^250 /);
  const request = contosoHooks.requests.find((r) => JSON.parse(r.body).type === 'delivered')!;
  assert.equal(request.verifiedBy.length, 1, "signed with contoso's secret");
  assert.ok(sink.messages.some((m) => m.recipients.some((r) => r.address === 'bob@external.example')));
  assert.equal(otherHooks.requests.length, 0);
});
