import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createServer } from 'node:net';
import { SmtpReceiver, type ReceiverBehaviour } from '../../test/support/smtp-receiver.js';
import { createTestPki } from '../../test/support/certificates.js';
import { SmtpSession, encodeXText, type OutboundMessage, type TransactionResult } from './smtp-client.js';
import { formatFailure } from '../core/envelope.js';
import { DeliveryError } from './outcome.js';
import type { HopTarget, TlsMode } from './routing.js';

const pki = createTestPki();
const mx = pki.serverFor('mx', 'mx.test');
const relayClient = pki.client('relay-client', { cn: 'relay.client.test' });
const receivers: SmtpReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.stop();
  pki.cleanup();
});

const body = 'From: a@contoso.test\r\nTo: b@remote.test\r\nSubject: hi\r\n\r\n.leading dot\r\nline two\r\n';

function message(over: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    mailFrom: 'a@contoso.test',
    recipients: [
      { address: 'b@remote.test', notify: 'FAILURE,DELAY', orcpt: 'rfc822;B@remote.test' },
      { address: 'c@remote.test', notify: null, orcpt: null },
    ],
    envId: 'env+1',
    ret: 'HDRS',
    smtputf8: false,
    bodyType: null,
    size: Buffer.byteLength(body),
    open: () => Readable.from([Buffer.from(body)]),
    ...over,
  };
}

async function receiver(b: ReceiverBehaviour = {}, host = '127.0.0.1'): Promise<SmtpReceiver> {
  const r = new SmtpReceiver(b);
  await r.start(host);
  receivers.push(r);
  return r;
}

function hop(port: number, tls: TlsMode = 'none', over: Partial<HopTarget> = {}): HopTarget {
  return { name: 'mx.test', address: '127.0.0.1', port, tls, auth: null, clientCert: null, ...over };
}

const settings = { heloName: 'relay.example.net', socketTimeoutMs: 2_000, ca: pki.ca.cert };

async function sendOnce(h: HopTarget, m: OutboundMessage = message(), s = settings): Promise<TransactionResult> {
  const session = await SmtpSession.open(h, s);
  try {
    return await session.send(m);
  } finally {
    session.close();
  }
}

function summary(r: TransactionResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of r.recipients) out[k] = v.ok ? 'delivered' : `${v.failure.scope} ${v.failure.permanent ? 'permanent' : 'temporary'}: ${formatFailure(v.failure)}`;
  return out;
}

async function openFailure(h: HopTarget, s = settings): Promise<string> {
  try {
    const session = await SmtpSession.open(h, s);
    session.close();
  } catch (err) {
    assert.ok(err instanceof DeliveryError);
    return `${err.failure.scope} ${err.failure.permanent ? 'permanent' : 'temporary'}: ${err.message}`;
  }
  assert.fail('expected the session to fail');
}

test('one transaction carries all recipients with per-recipient NOTIFY/ORCPT and RET/ENVID', async () => {
  const r = await receiver();
  const result = await sendOnce(hop(r.port));
  assert.deepEqual(summary(result), { 'b@remote.test': 'delivered', 'c@remote.test': 'delivered' });
  assert.equal(r.messages.length, 1);
  const got = r.messages[0]!;
  assert.equal(got.from, 'a@contoso.test');
  assert.equal(got.helo, 'relay.example.net');
  assert.deepEqual(got.mailArgs.RET, 'HDRS');
  assert.deepEqual(got.mailArgs.ENVID, 'env+1', 'sent as xtext env+2B1, decoded by the receiver');
  assert.deepEqual(got.recipients, [
    { address: 'b@remote.test', args: { NOTIFY: 'FAILURE,DELAY', ORCPT: 'rfc822;B@remote.test' } },
    { address: 'c@remote.test', args: {} },
  ]);
  assert.equal(got.body.toString(), body, 'dot-stuffing is undone by the receiver: the body arrives intact');
});

test('a peer without DSN gets no DSN parameters', async () => {
  const r = await receiver({ dsn: false });
  await sendOnce(hop(r.port));
  assert.deepEqual(r.messages[0]!.recipients.map((x) => x.args), [{}, {}]);
  assert.equal(r.messages[0]!.mailArgs.RET, undefined);
  assert.equal(r.messages[0]!.mailArgs.ENVID, undefined);
});

test('per-recipient outcomes: one refused at RCPT, the other delivered', async () => {
  const r = await receiver({ rcpt: (to) => (to === 'c@remote.test' ? { code: 550, text: '5.1.1 no such user' } : 'accept') });
  const result = await sendOnce(hop(r.port));
  assert.deepEqual(summary(result), {
    'b@remote.test': 'delivered',
    'c@remote.test': 'recipient permanent: 550 5.1.1 no such user',
  });
  assert.deepEqual(r.messages[0]!.recipients.map((x) => x.address), ['b@remote.test']);
});

test('every recipient refused: each keeps its own reply', async () => {
  const r = await receiver({ rcpt: (to) => (to === 'b@remote.test' ? { code: 452, text: '4.2.2 mailbox full' } : { code: 550, text: '5.1.1 unknown' }) });
  const result = await sendOnce(hop(r.port));
  assert.deepEqual(summary(result), {
    'b@remote.test': 'recipient temporary: 452 4.2.2 mailbox full',
    'c@remote.test': 'recipient permanent: 550 5.1.1 unknown',
  });
  assert.equal(result.hostFailure, null);
  assert.equal(result.sessionUsable, true);
});

test('4xx at MAIL FROM and 5xx at end of DATA are message failures', async () => {
  const r1 = await receiver({ mail: () => ({ code: 451, text: '4.7.1 try later' }) });
  assert.deepEqual(summary(await sendOnce(hop(r1.port))), {
    'b@remote.test': 'message temporary: 451 4.7.1 try later',
    'c@remote.test': 'message temporary: 451 4.7.1 try later',
  });
  const r2 = await receiver({ data: () => ({ code: 554, text: '5.7.1 spam' }) });
  const result = await sendOnce(hop(r2.port));
  assert.deepEqual(summary(result), {
    'b@remote.test': 'message permanent: 554 5.7.1 spam',
    'c@remote.test': 'message permanent: 554 5.7.1 spam',
  });
  assert.equal(r2.messages.length, 0);
});

test('a dropped connection and a stalled peer are temporary connection failures', async () => {
  const r1 = await receiver({ rcpt: () => 'drop' });
  const dropped = await sendOnce(hop(r1.port));
  assert.equal(dropped.hostFailure?.scope, 'connection');
  assert.equal(dropped.sessionUsable, false);
  assert.match(summary(dropped)['b@remote.test']!, /^connection temporary: 451 4\.4\.1 Connection to mx\.test\[127\.0\.0\.1\]:\d+ failed: /);
  const r2 = await receiver({ data: () => 'stall' });
  const stalled = await sendOnce(hop(r2.port), message(), { ...settings, socketTimeoutMs: 300 });
  assert.match(summary(stalled)['c@remote.test']!, /^connection temporary: 451 4\.4\.1 Connection to mx\.test\[127\.0\.0\.1\]:\d+ failed: .*Timeout/);
});

test('nothing listening: connection refused', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  assert.match(await openFailure(hop(port)), /^connection temporary: 451 4\.4\.1 Connection to mx\.test\[127\.0\.0\.1\]:\d+ failed: ECONNREFUSED/);
});

test('STARTTLS: opportunistic encrypts when offered, stays clear when not', async () => {
  const offered = await receiver({ starttls: { cert: mx.cert, key: mx.key } });
  await sendOnce(hop(offered.port, 'opportunistic'));
  assert.equal(offered.messages[0]!.secure, true);
  const denied = await receiver();
  await sendOnce(hop(denied.port, 'opportunistic'));
  assert.equal(denied.messages[0]!.secure, false);
  const none = await receiver({ starttls: { cert: mx.cert, key: mx.key } });
  await sendOnce(hop(none.port, 'none'));
  assert.equal(none.messages[0]!.secure, false, 'tls: none never upgrades');
});

test('STARTTLS required but not offered: host failure naming the policy', async () => {
  const r = await receiver();
  assert.match(await openFailure(hop(r.port, 'required')), /^host temporary: 451 4\.7\.10 TLS is required by the route but mx\.test\[127\.0\.0\.1\]:\d+ does not offer STARTTLS$/);
  assert.equal(r.messages.length, 0);
});

test('verify: the certificate must chain to a trusted CA and match the host name', async () => {
  const r = await receiver({ starttls: { cert: mx.cert, key: mx.key } });
  await sendOnce(hop(r.port, 'verify'));
  assert.equal(r.messages[0]!.secure, true);
  const wrongName = await openFailure(hop(r.port, 'verify', { name: 'other.test' }));
  assert.match(wrongName, /^connection temporary: 451 4\.7\.5 TLS with other\.test\[127\.0\.0\.1\]:\d+ failed: .*(altnames|Hostname)/);
  const untrusted = await openFailure(hop(r.port, 'verify'), { ...settings, ca: pki.otherCa.cert });
  assert.match(untrusted, /^connection temporary: 451 4\.7\.5 TLS with mx\.test\[127\.0\.0\.1\]:\d+ failed: .*(self.signed|unable to verify|certificate)/i);
});

test('a client certificate is presented when the route has one', async () => {
  const r = await receiver({ starttls: { cert: mx.cert, key: mx.key }, requestCert: true });
  await sendOnce(hop(r.port, 'required', { clientCert: { cert: relayClient.cert, key: relayClient.key } }));
  assert.equal(r.messages[0]!.clientCertSubject, 'relay.client.test');
});

test('AUTH with the route credentials; wrong ones are a temporary host failure', async () => {
  const r = await receiver({ auth: { user: 'relay', pass: 's3cret' } });
  await sendOnce(hop(r.port, 'none', { auth: { user: 'relay', pass: 's3cret' } }));
  assert.equal(r.messages[0]!.user, 'relay');
  assert.match(await openFailure(hop(r.port, 'none', { auth: { user: 'relay', pass: 'wrong' } })), /^host temporary: 451 4\.7\.8 Authentication to mx\.test\[127\.0\.0\.1\]:\d+ failed: 535 5\.7\.8 authentication failed/);
});

test('SMTPUTF8 and 8BITMIME messages are refused, not altered, when the peer lacks them', async () => {
  const r = await receiver({ smtputf8: false, eightBitMime: false });
  const utf8 = summary(await sendOnce(hop(r.port), message({ smtputf8: true, mailFrom: 'jörg@contoso.test' })));
  assert.match(utf8['b@remote.test']!, /^host permanent: 554 5\.6\.7 The message needs SMTPUTF8 but mx\.test\[127\.0\.0\.1\]:\d+ does not support it; not sent rather than altered$/);
  const eight = summary(await sendOnce(hop(r.port), message({ bodyType: '8BITMIME' })));
  assert.match(eight['c@remote.test']!, /^host permanent: 554 5\.6\.3 The message has an 8-bit body but mx\.test\[127\.0\.0\.1\]:\d+ does not support 8BITMIME; not sent rather than altered$/);
  assert.equal(r.attempts.length, 0, 'no MAIL FROM was sent');
  const ok = await receiver();
  await sendOnce(hop(ok.port), message({ smtputf8: true, mailFrom: 'jörg@contoso.test', bodyType: '8BITMIME' }));
  assert.equal(ok.messages[0]!.from, 'jörg@contoso.test');
  assert.equal(ok.messages[0]!.mailArgs.BODY, '8BITMIME');
});

test('a session is reused for several messages; the null sender goes as MAIL FROM:<>', async () => {
  const r = await receiver();
  const session = await SmtpSession.open(hop(r.port), settings);
  await session.send(message());
  await session.send(message({ mailFrom: '' }));
  session.close();
  assert.equal(r.connections, 1);
  assert.deepEqual(r.messages.map((m) => m.from), ['a@contoso.test', '']);
});

test('IPv6: delivery to ::1', async () => {
  const r = await receiver({}, '::1');
  await sendOnce(hop(r.port, 'none', { address: '::1' }));
  assert.equal(r.messages.length, 1);
});

test('xtext encoding of DSN values', () => {
  assert.equal(encodeXText('a+b=c d'), 'a+2Bb+3Dc+20d');
});
