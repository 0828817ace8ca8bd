/**
 * /metrics of the live relay (the composition root of `relaygate serve`: listeners, policy, queue,
 * delivery, SQLite) scraped over HTTP after real SMTP sessions on loopback: a relay attempt from a
 * stranger refused at RCPT, a tenant's message delivered to a recording server, and a legacy
 * tenant's message that only the legacy rules relay. Every figure is checked by name, labels and
 * exact value.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { openSqliteStores, type SqliteStores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { RawSmtpClient, sendMessage } from '../support/smtp-client.js';
import { writeRecordingRouteConfig } from '../support/relaygate-process.js';
import { tenantAndLegacySaasYaml } from '../support/test-directory.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';
import { family, parsePrometheusText, sampleValue, type Sample } from '../support/prometheus-text.js';

let dir: string;
let stores: SqliteStores;
let relay: Awaited<ReturnType<typeof serve>>;
let port: number;
const receiver = new SmtpReceiver();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-'));
  const sink = await receiver.start('127.0.0.1');
  const config = loadConfig(writeRecordingRouteConfig(dir, { domains: ['external.example'], sinkPort: sink, more: 'metrics:\n  address: "127.0.0.1:0"\n' }), {});
  stores = openSqliteStores(config);
  await stores.directory.replace(
    parseDirectoryYaml(tenantAndLegacySaasYaml('contoso')),
  );
  relay = await serve({ config, stores });
  port = relay.listeners.find((l) => l.name === 'plain')!.port;
});

after(async () => {
  await relay?.stop();
  await stores?.close();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function scrape(): Promise<Sample[]> {
  const m = relay.metrics!;
  const res = await fetch(`http://127.0.0.1:${m.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

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

test('a refused relay attempt, a delivered message and a legacy-only message, as /metrics shows them', async () => {
  const before = await scrape();
  assert.equal(sampleValue(before, 'relaygate_smtp_connections_total', { listener: 'plain', outcome: 'accepted' }), undefined);
  assert.deepEqual(family(before, 'relaygate_queue_recipients'), {
    'state=queued': 0, 'state=inflight': 0, 'state=deferred': 0, 'state=delivered': 0, 'state=failed': 0, 'state=held': 0, 'state=expired': 0,
  });

  // (a) A stranger (127.0.0.9 matches no connector) tries to relay to an outside domain.
  const stranger = await session('127.0.0.9');
  assert.equal(await stranger.command('MAIL FROM:<someone@spam.example>'), '250 2.1.0 Sender OK');
  assert.equal(await stranger.command('RCPT TO:<victim@external.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  await quit(stranger);

  // (b) contoso's server relays a message; the recording server gets it.
  const server = await session('127.0.0.1');
  assert.match(await sendMessage(server, 'app@contoso.example', ['bob@external.example'], 'From: app@contoso.example\r\nSubject: metrics\r\n\r\nhello'), /^250 2\.0\.0 OK /);
  await quit(server);

  // (c) saas relays for a customer's sender domain: only the legacy rules (header From) let it through.
  const app = await session('127.0.0.5');
  assert.match(await sendMessage(app, 'news@customer.example', ['carol@external.example'], 'From: news@saas.example\r\nSubject: legacy\r\n\r\nhello'), /^250 2\.0\.0 OK /);
  await quit(app);

  await waitFor(() => receiver.messages.length >= 2, { message: () => `2 messages at the receiver (${receiver.messages.length})`, timeoutMs: 30_000 });
  // The metrics follow the sessions' ends and the recorded outcomes: wait (bounded) for the last of them.
  let samples: Sample[] = [];
  await waitFor(
    async () => {
      samples = await scrape();
      return (
        sampleValue(samples, 'relaygate_delivery_end_to_end_seconds_count') === 2 &&
        sampleValue(samples, 'relaygate_queue_recipients', { state: 'delivered' }) === 0 &&
        (sampleValue(samples, 'relaygate_smtp_transactions_total', { listener: 'plain', outcome: 'refused' }) ?? 0) >= 1
      );
    },
    { message: () => 'the deliveries and the refused transaction in /metrics', timeoutMs: 30_000, intervalMs: 100 },
  );
  assert.equal(receiver.messages.length, 2);

  assert.deepEqual(family(samples, 'relaygate_smtp_connections_total'), { 'listener=plain,outcome=accepted': 3 });
  assert.deepEqual(family(samples, 'relaygate_smtp_transactions_total'), {
    'listener=plain,outcome=refused': 1,
    'listener=plain,outcome=accepted': 2,
  });
  assert.deepEqual(family(samples, 'relaygate_policy_decisions_total'), {
    'rule=nobody,rule_set=2023-11,tenant=none,verdict=rejected': 1,
    'rule=relay,rule_set=2023-11,tenant=contoso,verdict=relay': 1,
    'rule=relay,rule_set=legacy,tenant=saas,verdict=relay': 1,
  });
  assert.deepEqual(family(samples, 'relaygate_policy_legacy_only_total'), { 'rule_set=legacy,tenant=saas': 1 });
  assert.equal(sampleValue(samples, 'relaygate_smtp_accept_duration_seconds_count'), 2);
  assert.equal(sampleValue(samples, 'relaygate_smtp_accept_duration_seconds_bucket', { le: '+Inf' }), 2);
  assert.deepEqual(family(samples, 'relaygate_delivery_outcomes_total'), {
    'class=2xx,outcome=delivered,tenant=contoso': 1,
    'class=2xx,outcome=delivered,tenant=saas': 1,
  });
  assert.equal(sampleValue(samples, 'relaygate_delivery_end_to_end_seconds_bucket', { le: '+Inf' }), 2);
  assert.equal(sampleValue(samples, 'relaygate_delivery_leases_lost_total'), 0);
  assert.equal(sampleValue(samples, 'relaygate_queue_oldest_age_seconds'), 0);
  assert.equal(sampleValue(samples, 'relaygate_queue_expired_leases'), 0);
  assert.equal(sampleValue(samples, 'relaygate_webhook_backlog'), 0);
  assert.equal(sampleValue(samples, 'relaygate_smtp_connections_open'), 0);
  // A cleartext listener presents no certificate.
  assert.equal(sampleValue(samples, 'relaygate_server_certificate_expiry_timestamp_seconds'), 0);
  // Nothing in any label is an address or an IP.
  for (const s of samples.filter((x) => x.name.startsWith('relaygate_'))) {
    for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /@|^\d+\.\d+\.\d+\.\d+$|:.*:/, `${s.name} ${JSON.stringify(s.labels)}`);
  }
});

test('a flood of refusals is counted in full, while the decision log keeps only its per-source burst', async () => {
  const refusal = { rule: 'nobody', rule_set: '2023-11', tenant: 'none', verdict: 'rejected' };
  const before = sampleValue(await scrape(), 'relaygate_policy_decisions_total', refusal) ?? 0;
  const SESSIONS = 12;
  const PER_SESSION = 10; // limits.maxErrors: the session's last refusal allowed
  for (let s = 0; s < SESSIONS; s++) {
    const c = await session('127.0.0.10');
    assert.equal(await c.command('MAIL FROM:<flood@spam.example>'), '250 2.1.0 Sender OK');
    for (let i = 0; i < PER_SESSION; i++) assert.equal(await c.command(`RCPT TO:<v${s}-${i}@external.example>`), '550 5.7.64 TenantAttribution; Relay Access Denied');
    await quit(c);
  }
  const after = await scrape();
  assert.equal(sampleValue(after, 'relaygate_policy_decisions_total', refusal), before + SESSIONS * PER_SESSION);
  // The log's bucket (100 refusals, then one a second) wrote its burst and dropped most of the rest.
  const logged = await waitFor(
    async () => {
      const rows = (await stores.decisions.list({ limit: 1000 })).filter((d) => d.clientIp === '127.0.0.10');
      return rows.length >= 100 && rows;
    },
    { message: 'the burst of 100 refusals in the decision log', timeoutMs: 10_000 },
  );
  assert.ok(logged.length < SESSIONS * PER_SESSION, `${logged.length} refusals logged`);
});

test('a message with a bare LF is a refused transaction; accepted recipients and QUIT before DATA an abandoned one', async () => {
  const count = async (outcome: string) => sampleValue(await scrape(), 'relaygate_smtp_transactions_total', { listener: 'plain', outcome }) ?? 0;
  const [refused, abandoned] = [await count('refused'), await count('abandoned')];
  const bare = await session('127.0.0.1');
  assert.equal(await bare.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await bare.command('RCPT TO:<bob@external.example>'), '250 2.1.5 Recipient OK');
  assert.match(await bare.command('DATA'), /^354 /);
  assert.equal(await bare.command('From: app@contoso.example\r\n\r\nbare\nline\r\n.'), '550 5.6.11 Bare CR or LF not allowed');
  await bare.closed();
  const left = await session('127.0.0.1');
  assert.equal(await left.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await left.command('RCPT TO:<bob@external.example>'), '250 2.1.5 Recipient OK');
  await quit(left);
  // The session's end is seen once its socket has closed on the server's side too.
  await waitFor(async () => (await count('abandoned')) === abandoned + 1, { message: 'the abandoned transaction in /metrics', timeoutMs: 10_000, intervalMs: 50 });
  assert.equal(await count('refused'), refused + 1);
});
