/**
 * Destinations that misbehave, each a real server on loopback: it stalls in the middle of DATA,
 * drops the connection after RCPT, answers garbage, cuts a multi-line reply short, advertises
 * STARTTLS and then fails the handshake, presents an expired or a wrong-name certificate to a
 * `verify` route, answers one byte per second; DNS that answers SERVFAIL. Every message ends
 * delivered, deferred on the retry schedule (ManualClock), or bounced with a DSN; every pass
 * finishes within the client's bounds (no delivery worker hangs), and a reply that never ends is
 * read only up to a bounded size.
 *
 * Covered elsewhere, not repeated here: a DNS server that never answers (deferred `451 4.4.3`,
 * delivery-scheduler.test.ts, "null MX and NXDOMAIN fail at once; a silent DNS server defers"), MX
 * records pointing at loopback (`554 5.4.6` with a DSN, delivery-local-address.test.ts), a peer that
 * never answers the end of DATA (delivery-restart.test.ts, "an outcome is on disk right after its
 * transaction"), a wrong-name or untrusted certificate at the session level (smtp-client.test.ts).
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { DeliveryHarness, T0 } from './delivery-harness.js';
import type { DeliveryDeps, DeliveryService } from '../../src/app/delivery.js';
import type { PassSummary } from '../../src/queue/scheduler.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { ScriptedSmtpServer, type Script } from '../support/scripted-smtp-server.js';
import type { ReceivedMessage, ReceiverBehaviour } from '../support/smtp-receiver.js';

let h: DeliveryHarness;
const scripted: ScriptedSmtpServer[] = [];
let pki: TestPki | null = null;
afterEach(async () => {
  for (const s of scripted.splice(0)) await s.stop();
  await h.stop();
  pki?.cleanup();
  pki = null;
});

/** The client's bounds in these tests: one second of silence, a few seconds for a whole exchange. */
const CLIENT = { socketTimeoutMs: 1_000 } satisfies Partial<DeliveryDeps>;
/** How long a pass may take before the test calls it hung: well past every client bound. */
const PASS_BOUND_MS = 20_000;
const MINUTE = 60_000;

/** faulty.test's MX is mx.faulty.test on 127.0.0.3; the sender's domain contoso.test on 127.0.0.2. */
async function setup(): Promise<void> {
  h = await DeliveryHarness.started();
  h.dns
    .set('faulty.test', { MX: [{ preference: 10, exchange: 'mx.faulty.test' }] })
    .set('mx.faulty.test', { A: ['127.0.0.3'] })
    .set('contoso.test', { MX: [{ preference: 10, exchange: 'mx.contoso.test' }] })
    .set('mx.contoso.test', { A: ['127.0.0.2'] });
  await h.receiver(2);
}

/** The misbehaving destination on 127.0.0.3, on the harness's shared port. */
async function faulty(script: Script): Promise<ScriptedSmtpServer> {
  const s = new ScriptedSmtpServer(script);
  h.port = await s.start('127.0.0.3', h.port);
  scripted.push(s);
  return s;
}

/** The destination mended: a well-behaved receiver where the faulty one was. */
async function mended(s: ScriptedSmtpServer | null, behaviour: ReceiverBehaviour = {}) {
  if (s) {
    await s.stop();
    scripted.splice(scripted.indexOf(s), 1);
  }
  return h.receiver(3, behaviour);
}

/** One pass, which must end: a worker stuck on a peer would hold it (and the recipients' lease) forever. */
async function pass(service: DeliveryService): Promise<PassSummary> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the delivery pass did not finish within ${PASS_BOUND_MS} ms: a delivery worker hangs`)), PASS_BOUND_MS);
  });
  try {
    return await Promise.race([service.runOnce(), hung]);
  } finally {
    clearTimeout(timer);
  }
}

const row = async (address: string) => {
  const r = (await h.recipients()).find((x) => x.address === address);
  assert.ok(r, `${address} is queued`);
  return { state: r.state, attempts: r.attempts, next: r.next_attempt_at - T0, reply: r.last_reply };
};

/** Greeting and EHLO as a real server says them; then the script goes on. */
async function greet(c: Parameters<Script>[0], extensions: string[] = []): Promise<boolean> {
  c.write('220 mx.faulty.test ESMTP\r\n');
  if ((await c.lineMatching(/^EHLO /i)) === null) return false;
  c.write(['mx.faulty.test', ...extensions].map((e, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${e}\r\n`).join(''));
  return true;
}

/**
 * The common ending of a temporary fault: deferred at the first attempt with REPLY, not tried
 * again before the first retry interval, delivered exactly once when due after the destination
 * was mended.
 */
async function deferredThenDelivered(service: DeliveryService, address: string, reply: string | RegExp, fault: ScriptedSmtpServer | null, mend = () => mended(fault)): Promise<void> {
  const first = await pass(service);
  assert.deepEqual({ claimed: first.claimed, deferred: first.deferred }, { claimed: 1, deferred: 1 });
  const deferred = await row(address);
  assert.deepEqual({ ...deferred, reply: null }, { state: 'deferred', attempts: 1, next: MINUTE, reply: null }, 'deferred by the first retry interval');
  if (typeof reply === 'string') assert.equal(deferred.reply, reply);
  else assert.match(deferred.reply ?? '', reply);
  h.clock.advance(MINUTE - 1);
  assert.equal((await pass(service)).claimed, 0, 'not tried again before it is due');
  const good = await mend();
  h.clock.advance(1);
  assert.equal((await pass(service)).delivered, 1);
  assert.deepEqual(good.messages.map((m) => m.recipients.map((r) => r.address)), [[address]], 'delivered once');
  assert.deepEqual(await h.messages(), [], 'and gone from the queue');
}

const port = () => h.port;

test('a destination that stops reading in the middle of DATA: deferred when the socket goes quiet, delivered once mended', async () => {
  await setup();
  let dataBytes = 0;
  const fault = await faulty(async (c) => {
    if (!(await greet(c, ['8BITMIME', 'SIZE 100000000']))) return;
    await c.lineMatching(/^MAIL FROM:/i);
    c.write('250 2.1.0 Ok\r\n');
    await c.lineMatching(/^RCPT TO:/i);
    c.write('250 2.1.5 Ok\r\n');
    await c.lineMatching(/^DATA$/i);
    c.write('354 go ahead\r\n');
    // A few lines of the message, then nothing more is read: the TCP buffers fill up.
    for (let i = 0; i < 10; i++) if ((await c.line()) !== null) dataBytes++;
    c.stopReading();
    await c.closed();
  });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['big@faulty.test'], body: `From: alice@contoso.test\r\nSubject: big\r\n\r\n${'x'.repeat(998) + '\r\n'}`.repeat(4_000) });
  await deferredThenDelivered(service, 'big@faulty.test', `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: Timeout`, fault);
  assert.ok(dataBytes > 0, 'the stall came in the middle of the data');
});

test('a destination that drops the connection after RCPT: deferred, delivered once mended', async () => {
  await setup();
  let dropping = true;
  const receiver = await h.receiver(3, { rcpt: () => (dropping ? 'drop' : 'accept') });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['dropped@faulty.test'] });
  const first = await pass(service);
  assert.equal(first.deferred, 1);
  assert.deepEqual({ ...(await row('dropped@faulty.test')), reply: null }, { state: 'deferred', attempts: 1, next: MINUTE, reply: null });
  assert.match((await row('dropped@faulty.test')).reply ?? '', new RegExp(`^451 4\\.4\\.1 Connection to mx\\.faulty\\.test\\[127\\.0\\.0\\.3\\]:${port()} failed: `));
  dropping = false;
  h.clock.advance(MINUTE);
  assert.equal((await pass(service)).delivered, 1);
  assert.deepEqual(receiver.messages.map((m) => m.recipients.map((r) => r.address)), [['dropped@faulty.test']]);
});

test('a destination that answers garbage: an HTTP server on the SMTP port', async () => {
  await setup();
  const http = await faulty(async (c) => {
    c.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    c.hangUp();
  });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['web@faulty.test'] });
  await deferredThenDelivered(service, 'web@faulty.test', `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: Invalid greeting. response=HTTP/1.1 400 Bad Request: HTTP/1.1 400 Bad Request`, http);
});

test('a destination that answers garbage: noise instead of a reply to MAIL FROM', async () => {
  await setup();
  const noise = await faulty(async (c) => {
    if (!(await greet(c))) return;
    await c.lineMatching(/^MAIL FROM:/i);
    c.write('Hello? Is anyone there?\r\n');
    await c.closed();
  });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['noise@faulty.test'] });
  await deferredThenDelivered(service, 'noise@faulty.test', `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: Mail command failed: Hello? Is anyone there?`, noise);
});

test('a multi-line reply cut short (EHLO; the reply to the end of DATA): deferred, never counted as delivered', async () => {
  await setup();
  const ehlo = await faulty(async (c) => {
    c.write('220 mx.faulty.test ESMTP\r\n');
    await c.lineMatching(/^EHLO /i);
    c.write('250-mx.faulty.test\r\n250-PIPELINING\r\n');
    c.hangUp();
  });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['ehlo@faulty.test'] });
  const first = await pass(service);
  assert.equal(first.deferred, 1);
  assert.equal((await row('ehlo@faulty.test')).reply, `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: Connection closed unexpectedly`);
  await ehlo.stop();
  scripted.splice(0);
  // The message is all there, the final reply begins with 250 and stops: not a delivery.
  let took = 0;
  const dot = await faulty(async (c) => {
    if (!(await greet(c))) return;
    await c.lineMatching(/^MAIL FROM:/i);
    c.write('250 2.1.0 Ok\r\n');
    await c.lineMatching(/^RCPT TO:/i);
    c.write('250 2.1.5 Ok\r\n');
    await c.lineMatching(/^DATA$/i);
    c.write('354 go ahead\r\n');
    await c.lineMatching(/^\.$/);
    took++;
    c.write('250-2.0.0 Ok: queued as 1234\r\n250-');
    c.hangUp();
  });
  h.clock.advance(MINUTE);
  const second = await pass(service);
  assert.deepEqual({ deferred: second.deferred, delivered: second.delivered, took }, { deferred: 1, delivered: 0, took: 1 });
  assert.deepEqual({ ...(await row('ehlo@faulty.test')), reply: null }, { state: 'deferred', attempts: 2, next: MINUTE + 5 * MINUTE, reply: null }, 'the second interval');
  assert.equal((await row('ehlo@faulty.test')).reply, `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: Connection closed unexpectedly`);
  const good = await mended(dot);
  h.clock.advance(5 * MINUTE);
  assert.equal((await pass(service)).delivered, 1);
  assert.equal(good.messages.length, 1);
});

test('STARTTLS advertised, then no handshake: deferred, delivered once the peer speaks TLS', async () => {
  await setup();
  const broken = await faulty(async (c) => {
    if (!(await greet(c, ['STARTTLS']))) return;
    await c.lineMatching(/^STARTTLS$/i);
    c.write('220 2.0.0 Ready to start TLS\r\n');
    // What comes next is not a TLS handshake.
    c.write('this is not TLS\r\n');
    await c.closed();
  });
  pki = createTestPki();
  const cert = pki.serverFor('mx-faulty', 'mx.faulty.test');
  const service = h.makeService({ ...CLIENT, mxTls: 'opportunistic' });
  await h.enqueue({ from: 'alice@contoso.test', to: ['tls@faulty.test'] });
  const first = await pass(service);
  assert.equal(first.deferred, 1);
  assert.match((await row('tls@faulty.test')).reply ?? '', new RegExp(`^451 4\\.7\\.5 TLS with mx\\.faulty\\.test\\[127\\.0\\.0\\.3\\]:${port()} failed: ERR_SSL_WRONG_VERSION_NUMBER .*wrong version number`));
  await broken.stop();
  scripted.splice(0);
  const good = await h.receiver(3, { starttls: { cert: cert.cert, key: cert.key } });
  h.clock.advance(MINUTE);
  assert.equal((await pass(service)).delivered, 1);
  assert.equal(good.messages[0]?.secure, true);
});

/** Runs passes at each due time until the recipient is no longer deferred; the attempt times, from T0. */
async function untilFinal(service: DeliveryService, address: string): Promise<number[]> {
  const at: number[] = [];
  for (let i = 0; i < 50; i++) {
    const before = (await h.recipients()).find((r) => r.address === address);
    if (!before || before.state !== 'deferred') break;
    h.clock.set(new Date(before.next_attempt_at));
    const summary = await pass(service);
    if (summary.claimed > 0) at.push(h.clock.now().getTime() - T0);
  }
  return at;
}

async function dsnFields(m: ReceivedMessage): Promise<Record<string, string>> {
  const mail = await simpleParser(m.body, { keepDeliveryStatus: true });
  const part = mail.attachments.find((a) => a.contentType === 'message/delivery-status');
  assert.ok(part, 'a message/delivery-status part');
  const [, recipient] = part.content.toString().trim().split(/\r?\n\r?\n/);
  return Object.fromEntries((recipient ?? '').split(/\r?\n/).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

for (const [what, certificate, failure] of [
  ['an expired certificate', (p: TestPki) => p.serverFor('mx-expired', 'mx.faulty.test', { notBefore: new Date(Date.now() - 30 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }), /certificate has expired/],
  ['a certificate for another name', (p: TestPki) => p.serverFor('mx-other', 'other.example'), /Hostname\/IP does not match certificate's altnames: Host: mx\.faulty\.test/],
] as const) {
  test(`tls verify and ${what}: deferred on the schedule, then bounced with a DSN that says why`, async () => {
    await setup();
    pki = createTestPki();
    const cert = certificate(pki);
    const remote = await h.receiver(3, { starttls: { cert: cert.cert, key: cert.key } });
    const service = h.makeService({
      ...CLIENT,
      ca: pki.ca.cert,
      delivery: {
        retry: [20 * MINUTE], expireAfter: 120 * MINUTE, delayNotifyAfter: 24 * 60 * MINUTE, dns: { servers: [h.dnsAddress], timeout: 1_000 },
        // The operator's route for faulty.test wants a verified certificate; the DSN goes by MX.
        routes: [{ domains: ['faulty.test'], host: 'mx.faulty.test', port: h.port, tls: 'verify' }],
        allowLocalAddresses: true,
      },
    });
    await h.enqueue({ from: 'alice@contoso.test', to: ['secure@faulty.test'] });
    const attempts = await pass(service).then(async (first) => {
      assert.equal(first.deferred, 1);
      const r = await row('secure@faulty.test');
      assert.deepEqual({ state: r.state, next: r.next }, { state: 'deferred', next: 20 * MINUTE });
      assert.match(r.reply ?? '', new RegExp(`^451 4\\.7\\.5 TLS with mx\\.faulty\\.test\\[127\\.0\\.0\\.3\\]:${port()} failed: `));
      assert.match(r.reply ?? '', failure);
      return [0, ...(await untilFinal(service, 'secure@faulty.test'))];
    });
    assert.deepEqual(attempts, [0, 20, 40, 60, 80, 100, 120].map((m) => m * MINUTE), 'every 20 minutes, a last one at the deadline');
    assert.equal(remote.messages.length, 0, 'never sent without the verified certificate');
    await pass(service);
    const sender = h.receivers.find((r) => r.messages.some((m) => m.from === ''));
    assert.ok(sender, 'the DSN reached the sender');
    const dsn = sender.messages.find((m) => m.from === '')!;
    assert.deepEqual(dsn.recipients.map((r) => r.address), ['alice@contoso.test']);
    const fields = await dsnFields(dsn);
    assert.equal(fields['Final-Recipient'], 'rfc822; secure@faulty.test');
    assert.equal(fields.Action, 'failed');
    assert.equal(fields.Status, '5.4.7');
    assert.match(fields['Diagnostic-Code'] ?? '', new RegExp(`^X-Relaygate; 550 5\\.4\\.7 Delivery time expired after 2 hours; last error: 451 4\\.7\\.5 TLS with mx\\.faulty\\.test\\[127\\.0\\.0\\.3\\]:${port()} failed: `));
    assert.match(fields['Diagnostic-Code'] ?? '', failure);
    assert.deepEqual(await h.messages(), []);
  });
}

test('a destination that answers one byte per second: each attempt ends at the client’s deadline, the host is given up for that attempt, delivered once mended', async () => {
  await setup();
  let attempt = 0;
  const drip = await faulty(async (c) => {
    attempt++;
    // First attempt: even the greeting comes one byte a second. Second: a quick greeting and
    // EHLO, then a reply to MAIL FROM that keeps coming, a byte a second, and never ends.
    if (attempt === 1) return c.drip('220 mx.faulty.test ESMTP slowly\r\n', 1_000);
    if (!(await greet(c))) return;
    await c.lineMatching(/^MAIL FROM:/i);
    await c.drip(`250-${'still thinking '.repeat(1_000)}`, 1_000);
  });
  // A second of silence at most between bytes: the inactivity limit (3 s) never fires.
  const service = h.makeService({ socketTimeoutMs: 3_000, setupTimeoutMs: 2_500, transactionTimeoutMs: 2_500 });
  await h.enqueue({ from: 'alice@contoso.test', to: ['slow-1@faulty.test'] });
  await h.enqueue({ from: 'alice@contoso.test', to: ['slow-2@faulty.test'] });
  const first = await pass(service);
  assert.equal(first.deferred, 2);
  for (const a of ['slow-1@faulty.test', 'slow-2@faulty.test']) {
    assert.deepEqual(await row(a), { state: 'deferred', attempts: 1, next: MINUTE, reply: `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: session setup (greeting, EHLO, STARTTLS, AUTH) not done within 2.5 s` });
  }
  h.clock.advance(MINUTE);
  const second = await pass(service);
  assert.equal(second.deferred, 2);
  assert.equal(drip.connections, 2, 'one connection per attempt: the host that ran out of time is not tried again in that attempt');
  const replies = await Promise.all(['slow-1@faulty.test', 'slow-2@faulty.test'].map(async (a) => (await row(a)).reply));
  assert.deepEqual(replies.sort(), [
    `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: transaction not completed within 2.5 s`,
    `451 4.4.1 Connection to mx.faulty.test[127.0.0.3]:${port()} failed: transaction not completed within 2.5 s`,
  ]);
  const good = await mended(drip);
  h.clock.advance(5 * MINUTE);
  assert.equal((await pass(service)).delivered, 2);
  assert.equal(good.messages.length, 2);
});

test('a reply that never ends, sent as fast as it is read: read up to a bounded size, then deferred', async (t) => {
  await setup();
  const flood = await faulty(async (c) => {
    if (!(await greet(c))) return;
    await c.lineMatching(/^MAIL FROM:/i);
    await c.flood(`250-${'x'.repeat(70)}`);
  });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['flood@faulty.test'] });
  const rssBefore = process.memoryUsage().rss;
  await deferredThenDelivered(service, 'flood@faulty.test', new RegExp(`^451 4\\.4\\.1 Connection to mx\\.faulty\\.test\\[127\\.0\\.0\\.3\\]:${port()} failed: .*(too large|size)`, 'i'), flood);
  // nodemailer stops at 1 MB per reply; what the server got into the socket buffers besides is small.
  assert.ok(flood.bytesSent < 16 * 1024 * 1024, `the client hung up after ${flood.bytesSent} bytes`);
  const grown = process.memoryUsage().rss - rssBefore;
  t.diagnostic(`the flooding server wrote ${flood.bytesSent} bytes before the client hung up; RSS grew by ${grown} bytes`);
  assert.ok(grown < 64 * 1024 * 1024, 'memory stays bounded');
});

test('DNS that answers SERVFAIL: deferred, delivered once DNS answers', async () => {
  await setup();
  h.dns.set('faulty.test', { servfail: true });
  const service = h.makeService(CLIENT);
  await h.enqueue({ from: 'alice@contoso.test', to: ['dns@faulty.test'] });
  await deferredThenDelivered(service, 'dns@faulty.test', '451 4.4.3 DNS lookup of MX faulty.test failed: ESERVFAIL', null, async () => {
    h.dns.set('faulty.test', { MX: [{ preference: 10, exchange: 'mx.faulty.test' }] });
    return mended(null);
  });
});
