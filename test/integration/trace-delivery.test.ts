/**
 * The trace of delivery, DSNs, SRS returns and operator actions, on the live relay (serve's
 * composition root: listeners, policy, queue, delivery, SQLite) over loopback with a recording
 * receiver: every event read back through the TraceStore port, and serve's log lines made from the
 * same events. The README demo's failed message (example.com has a null MX) is found with its reply.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RelaygateConfig } from '../../src/config/index.js';
import { openSqliteStores, openStores, type SqliteStores, type Stores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { QueueAdmin } from '../../src/queue/admin.js';
import { systemClock } from '../../src/core/clock.js';
import type { StoredTraceEvent } from '../../src/store/ports.js';
import type { TraceEventKind, TraceEventOf } from '../../src/trace/events.js';
import { RawSmtpClient, sendMessage } from '../support/smtp-client.js';
import { writeRecordingRouteConfig } from '../support/relaygate-process.js';
import { tenantAndLegacySaasYaml } from '../support/test-directory.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { TestDnsServer } from '../support/dns-server.js';
import { waitFor } from '../support/wait-for.js';
import { runCliCaptured } from '../../src/cli/testing.js';

interface Logged {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

async function send(port: number, from: string, mailFrom: string, rcpts: string[], content: string): Promise<string> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress: from });
  try {
    assert.match(await c.read(), /^220 /);
    assert.match(await c.command('EHLO client.test'), /^250/);
    const reply = await sendMessage(c, mailFrom, rcpts, content);
    await c.command('QUIT').catch(() => '');
    return /^250 2\.0\.0 OK <(\w+)>$/.exec(reply)?.[1] ?? assert.fail(reply);
  } finally {
    c.close();
  }
}

function only<K extends TraceEventKind>(events: readonly StoredTraceEvent[], kind: K): Array<TraceEventOf<K> & { id: number }> {
  return events.filter((e): e is TraceEventOf<K> & { id: number } => e.kind === kind);
}

/** The story of a queue id once it holds these kinds (bounded wait: delivery runs on its own). */
async function storyWith(stores: Stores, id: string, kinds: TraceEventKind[]): Promise<StoredTraceEvent[]> {
  return waitFor(
    async () => {
      const story = await stores.trace.story(id);
      return kinds.every((k) => story.some((e) => e.kind === k)) ? story : undefined;
    },
    { message: `${id}: ${kinds.join(', ')}`, timeoutMs: 30_000 },
  );
}

describe('delivery, DSN, SRS and operator events on the live relay', () => {
  let dir: string;
  let stores: SqliteStores;
  let relay: Awaited<ReturnType<typeof serve>>;
  let port: number;
  const logged: Logged[] = [];
  const receiver = new SmtpReceiver({
    rcpt: (to) =>
      to.startsWith('gone@') ? { code: 550, text: '5.1.1 no such user' } : to.startsWith('later@') ? { code: 451, text: '4.7.1 try again later' } : 'accept',
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relaygate-trace-delivery-'));
    const sink = await receiver.start('127.0.0.1');
    const config = loadConfig(
      writeRecordingRouteConfig(dir, {
        domains: ['acme.example', 'saas.example', 'partner.example', 'outside.example'],
        sinkPort: sink,
        delivery: ['retry: [300ms]', 'expireAfter: 4s', 'pollInterval: 50ms'],
        more: 'trace:\n  retention: { default: 30d, refused: 7d }\n',
      }),
      {},
    );
    stores = openSqliteStores(config);
    await stores.directory.replace(
      parseDirectoryYaml(tenantAndLegacySaasYaml('acme')),
    );
    relay = await serve({ config, stores, log: (level, message, fields) => void logged.push({ level, message, fields: fields ?? {} }) });
    port = relay.listeners.find((l) => l.name === 'plain')!.port;
  });

  after(async () => {
    await relay?.stop();
    await stores?.close();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('delivered, failed and the failure DSN: attempts with the host, address and reply; the DSN delivered under its own id', async () => {
    const id = await send(port, '127.0.0.1', 'app@acme.example', ['ok@outside.example', 'gone@outside.example'], 'From: app@acme.example\r\nMessage-ID: <d1@acme.example>\r\nSubject: two\r\n\r\nbody');
    const story = await storyWith(stores, id, ['delivered', 'failed', 'dsn-queued']);
    const [delivered] = only(story, 'delivered');
    const [failed] = only(story, 'failed');
    const attempts = only(story, 'attempt');
    assert.deepEqual(
      attempts.map((a) => [a.recipient, a.result, a.status, a.nextHop, a.mxHost, a.mxIp, a.tls, a.remote, a.reply]).sort(),
      [
        ['gone@outside.example', 'failed', 'Failed', '127.0.0.1', '127.0.0.1', '127.0.0.1', null, true, '550 5.1.1 no such user'],
        ['ok@outside.example', 'delivered', 'Delivered', '127.0.0.1', '127.0.0.1', '127.0.0.1', null, true, '250 2.0.0 ok: queued as test'],
      ],
    );
    assert.ok(attempts.every((a) => a.durationMs >= 0));
    assert.deepEqual([delivered!.recipient, delivered!.reply, delivered!.attempts, delivered!.status], ['ok@outside.example', '250 2.0.0 ok: queued as test', 1, 'Delivered']);
    assert.deepEqual([failed!.recipient, failed!.reply, failed!.reason, failed!.dsn, failed!.status], ['gone@outside.example', '550 5.1.1 no such user', '5.1.1', 'owed', 'Failed']);
    // Delivery's events carry the session's context, taken from the queued message.
    for (const e of [delivered!, failed!]) {
      assert.deepEqual([e.tenant, e.connector, e.clientIp, e.messageIdHeader, e.sender], ['acme', 'servers', '127.0.0.1', '<d1@acme.example>', 'app@acme.example']);
    }
    const [dsn] = only(story, 'dsn-queued');
    assert.deepEqual([dsn!.dsnKind, dsn!.notified, dsn!.recipient, dsn!.status], ['failure', 'app@acme.example', 'gone@outside.example', 'Failed']);
    // The DSN's own delivery is followed from the original's story.
    const dsnStory = await storyWith(stores, dsn!.dsnQueueId, ['delivered']);
    assert.deepEqual(only(dsnStory, 'delivered').map((e) => [e.recipient, e.sender]), [['app@acme.example', '']]);
    assert.ok((await stores.trace.story(id)).some((e) => e.queueId === dsn!.dsnQueueId), 'the original story includes the DSN');
    // The history outlives the message: once finished it leaves the queue, its story stays.
    await waitFor(async () => ((await stores.queueAdmin.select({ ids: [id] }, { limit: 1 })).length === 0 ? true : undefined), { message: 'message removed' });
    assert.ok((await stores.trace.story(id)).length >= 6);
    // serve logged each outcome at info from the same events.
    const lines = (): string[] => logged.filter((l) => l.level === 'info' && l.fields.queueId === id).map((l) => l.message);
    await waitFor(async () => (lines().length >= 4 ? true : undefined), { message: 'log lines' });
    assert.deepEqual(lines().sort(), [
      `accepted ${id} from <app@acme.example> for 2 recipients (tenant acme, connector servers)`,
      `delivered ${id} to <ok@outside.example>: 250 2.0.0 ok: queued as test`,
      `failed ${id} to <gone@outside.example>: 550 5.1.1 no such user`,
      `queued a failure DSN ${dsn!.dsnQueueId} to <app@acme.example> for ${id} (recipient <gone@outside.example>)`,
    ].sort());
    const failedLine = logged.find((l) => l.message.startsWith(`failed ${id}`))!;
    assert.deepEqual([failedLine.fields.mxHost, failedLine.fields.mxIp, failedLine.fields.tenant, failedLine.fields.reply], ['127.0.0.1', '127.0.0.1', 'acme', '550 5.1.1 no such user']);
  });

  test('a refusal is logged once at info with the rule, the tenant and connector, and the detail the client was not told', async () => {
    const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    assert.match(await c.read(), /^220 /);
    await c.command('EHLO client.test');
    assert.equal(await c.command('MAIL FROM:<someone@elsewhere.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<x@outside.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
    c.close();
    const line = await waitFor(() => logged.find((l) => l.fields.event === 'refused' && l.fields.recipient === 'x@outside.example'), { message: 'the refusal line' });
    assert.equal(line.level, 'info');
    assert.match(line.message, /^refused at RCPT <x@outside\.example> from <someone@elsewhere\.example> from 127\.0\.0\.1 \(tenant acme, connector servers\): 550 5\.7\.64 TenantAttribution; Relay Access Denied \(rule nobody\): /);
    assert.match(line.message, /S5: elsewhere\.example is not an accepted domain of acme\./);
    assert.deepEqual([line.fields.tenant, line.fields.connector, line.fields.reason, line.fields.client, typeof line.fields.session], ['acme', 'servers', 'nobody', '127.0.0.1', 'string']);
    assert.equal(logged.filter((l) => l.fields.event === 'refused' && l.fields.recipient === 'x@outside.example').length, 1);
  });

  test('deferred with the next attempt, then expired with a DSN', async () => {
    const id = await send(port, '127.0.0.1', 'app@acme.example', ['later@outside.example'], 'From: app@acme.example\r\nSubject: later\r\n\r\nbody');
    const story = await storyWith(stores, id, ['deferred', 'expired', 'dsn-queued']);
    const [deferred] = only(story, 'deferred');
    assert.deepEqual([deferred!.reply, deferred!.reason, deferred!.attempts, deferred!.status], ['451 4.7.1 try again later', '4.7.1', 1, 'Deferred']);
    assert.ok(deferred!.nextAttemptAt > deferred!.at);
    const [expired] = only(story, 'expired');
    assert.equal(expired!.status, 'Failed');
    assert.equal(expired!.reply, '550 5.4.7 Delivery time expired after 0 hours; last error: 451 4.7.1 try again later');
    assert.equal(expired!.reason, '5.4.7');
    assert.equal(only(story, 'dsn-queued')[0]!.dsnKind, 'failure');
    assert.ok(logged.some((l) => l.message.startsWith(`deferred ${id} to <later@outside.example> until `) && l.message.endsWith(': 451 4.7.1 try again later')));
  });

  test('a bounce returned through an SRS address: srs-returned under the bounce, with the original sender as recipient', async () => {
    await send(port, '127.0.0.5', 'news@partner.example', ['reader@outside.example'], 'From: app@saas.example\r\nSubject: news\r\n\r\nbody');
    const copy = await waitFor(async () => receiver.messages.find((m) => m.recipients.some((r) => r.address === 'reader@outside.example')), { message: 'relayed copy' });
    assert.match(copy.from, /^SRS0=/);
    const bounce = await send(port, '127.0.0.30', '', [copy.from], 'From: MAILER-DAEMON@outside.example\r\nSubject: Undelivered\r\n\r\ngone');
    const story = await storyWith(stores, bounce, ['srs-returned']);
    const [returned] = only(story, 'srs-returned');
    assert.deepEqual([returned!.srsAddress, returned!.recipient, returned!.sender, returned!.status, returned!.reason], [copy.from, 'news@partner.example', '', 'Expanded', 'srs-return']);
    assert.deepEqual((await stores.trace.search({ status: ['Expanded'], recipient: 'news@partner.example' })).events.map((e) => e.id), [returned!.id]);
  });

  test('held, released, bounced by an operator and deleted: each names who did it', async () => {
    // Delivery is paused for the message by holding it as soon as it is queued; the receiver defers it meanwhile.
    const id = await send(port, '127.0.0.1', 'ops@acme.example', ['later@outside.example', 'later2@outside.example'], 'From: ops@acme.example\r\nSubject: ops\r\n\r\nbody');
    const admin = new QueueAdmin({ store: stores.queueAdmin, directory: stores.directory, bodies: stores.bodies, clock: systemClock });
    await storyWith(stores, id, ['deferred']);
    // A recipient being delivered is not touched: each action is tried until the recipients are between attempts.
    await waitFor(async () => ((await admin.apply('hold', { ids: [id] }, 'cli:alice')) > 0 ? true : undefined), { message: 'held' });
    assert.ok((await admin.apply('release', { ids: [id] }, 'api:tok_7')) > 0);
    await waitFor(async () => ((await admin.apply('hold', { ids: [id] }, 'cli:alice')) > 0 ? true : undefined), { message: 'held again' });
    assert.ok((await admin.apply('bounce', { ids: [id], state: 'held' }, 'cli:bob')) > 0);
    const story = await storyWith(stores, id, ['held', 'released', 'operator-bounced']);
    assert.ok(only(story, 'held').every((e) => e.by === 'cli:alice' && e.status === 'Pending'));
    assert.ok(only(story, 'released').every((e) => e.by === 'api:tok_7'));
    const [bounced] = only(story, 'operator-bounced');
    assert.deepEqual([bounced!.by, bounced!.reply, bounced!.dsn, bounced!.connector], ['cli:bob', '554 5.0.0 Message returned by the relay operator', 'owed', 'servers']);
    const other = await send(port, '127.0.0.1', 'ops@acme.example', ['later@outside.example'], 'From: ops@acme.example\r\nSubject: ops 2\r\n\r\nbody');
    assert.equal(await admin.delete({ ids: [other] }, 'cli:carol'), 1);
    const [deleted] = only(await stores.trace.story(other), 'deleted');
    assert.deepEqual([deleted!.by, deleted!.queueId, deleted!.status], ['cli:carol', other, 'Failed']);
  });
});

describe("the README demo's message to example.com", () => {
  let dir: string;
  let stores: Stores;
  let relay: Awaited<ReturnType<typeof serve>>;
  const dns = new TestDnsServer();
  const logged: Logged[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relaygate-trace-demo-'));
    // example.com publishes a null MX (RFC 7505): it takes no mail, as the README says.
    dns.set('example.com', { MX: [{ preference: 0, exchange: '.' }] });
    const dnsAddress = await dns.start();
    const demo = loadConfig(undefined, {}, { cwd: dir });
    const config: RelaygateConfig = {
      ...demo,
      listeners: demo.listeners.map((l) => ({ ...l, port: 0 })),
      delivery: { ...demo.delivery, dns: { ...demo.delivery.dns, servers: [dnsAddress] }, pollInterval: 50 },
    };
    stores = await openStores(config);
    relay = await serve({ config, stores, log: (level, message, fields) => void logged.push({ level, message, fields: fields ?? {} }) });
  });

  after(async () => {
    await relay?.stop();
    await stores?.close();
    await dns.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('fails at once, and its trace and the log say why: the null MX reply, then the DSN', async () => {
    const listener = relay.listeners.find((l) => l.tls !== 'implicit')!;
    const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: listener.port });
    assert.match(await c.read(), /^220 /);
    await c.command('EHLO app.demo.example');
    assert.equal(await c.command('MAIL FROM:<app@demo.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<someone@example.com>'), '250 2.1.5 Recipient OK');
    assert.match(await c.command('DATA'), /^354 /);
    const id = /^250 2\.0\.0 OK <(\w+)>$/.exec(await c.command('From: app@demo.example\r\nSubject: test\r\n\r\nhello\r\n.'))?.[1];
    assert.ok(id);
    c.close();
    const found = await waitFor(async () => {
      const page = await stores.trace.search({ recipient: 'someone@example.com', status: ['Failed'] });
      return page.events.find((e) => e.kind === 'failed');
    }, { message: 'the failed event', timeoutMs: 30_000 });
    assert.equal(found.queueId, id);
    assert.equal(found.kind === 'failed' ? found.reply : null, '556 5.1.10 Recipient address has null MX: example.com does not accept mail (RFC 7505)');
    assert.deepEqual([found.tenant, found.connector], ['demo', 'loopback']);
    const story = await storyWith(stores, id, ['dsn-queued']);
    assert.deepEqual([...new Set(story.filter((e) => e.queueId === id).map((e) => e.kind))], ['received', 'queued', 'attempt', 'failed', 'dsn-queued']);
    assert.equal(story[0]!.kind, 'connected', "the story starts with the session's connection");
    assert.ok(logged.some((l) => l.level === 'info' && l.message === `failed ${id} to <someone@example.com>: 556 5.1.10 Recipient address has null MX: example.com does not accept mail (RFC 7505)`));
  });

  test('a newcomer finds it with relaygate trace --recipient, and trace show tells the reply', async () => {
    const env = { ...process.env };
    for (const k of ['RELAYGATE_STORE', 'RELAYGATE_STORE_URL', 'RELAYGATE_DATA_DIR']) delete env[k];
    const listed = await runCliCaptured(['trace', '--recipient', 'someone@example.com', '--status', 'Failed', '--json'], { env, cwd: dir });
    assert.equal(listed.code, 0, listed.stderr);
    const { events } = JSON.parse(listed.stdout) as { events: Array<Record<string, unknown>> };
    const failed = events.filter((e) => e.event === 'failed');
    assert.equal(failed.length, 1, listed.stdout);
    assert.equal(failed[0]!.recipient_status, 'someone@example.com##Failed');
    const traceId = String(failed[0]!.message_trace_id);
    const shown = await runCliCaptured(['trace', 'show', traceId], { env, cwd: dir });
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.includes('556 5.1.10 Recipient address has null MX: example.com does not accept mail (RFC 7505)'), shown.stdout);
  });
});
