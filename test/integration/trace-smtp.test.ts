/**
 * The trace an SMTP session writes, read back through the TraceStore port: the connection (with
 * the TLS parameters and the client certificate), every refusal with the engine's decision and the
 * detail the client is not told, the received and queued message. Real sessions over loopback, a
 * real SQLite file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { createTestPki, type KeyPair, type TestPki } from '../support/certificates.js';
import { waitFor } from '../support/wait-for.js';
import type { StoredTraceEvent } from '../../src/store/ports.js';
import type { TraceEventOf } from '../../src/trace/events.js';

/** contoso's certificate connector names mail.contoso.example, which contoso does not accept (condition 1a fails). */
const directory = `${testDirectoryYaml}
  - name: northwind
    acceptedDomains:
      - { domain: northwind.example }
    inboundConnectors:
      - { name: mail, type: OnPremises, tlsSenderCertificateName: mail.northwind-mail.example }
`;

let h: Harness;
let pki: TestPki;
let cert: KeyPair;

before(async () => {
  pki = createTestPki();
  cert = pki.client('northwind', { cn: 'mail.northwind-mail.example', dnsNames: ['mail.northwind-mail.example', 'smtp.northwind-mail.example'] });
  h = await startHarness({
    directory,
    pki,
    limits: { maxMessageSize: 2000 },
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'submission', host: '127.0.0.1', port: 0, tls: 'starttls' },
    ],
  });
});
after(async () => {
  await h?.stop();
  pki?.cleanup();
});

async function client(localAddress: string, listener = 'smtp'): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port(listener), localAddress });
  assert.match(await c.read(), /^220 relay\.test ESMTP relaygate$/);
  return c;
}

/** The events of one session, once `count` of them are committed (refusals ride the next commit round). */
async function sessionEvents(sessionOf: (e: StoredTraceEvent) => boolean, count: number): Promise<StoredTraceEvent[]> {
  return waitFor(
    async () => {
      await h.relay.acceptor.drain();
      const all = (await h.trace.search({}, { limit: 1000 })).events.filter(sessionOf);
      if (all.length < count) return undefined;
      return h.trace.story(all[0]!.sessionId!);
    },
    { message: `${count} trace events` },
  );
}

function only<K extends StoredTraceEvent['kind']>(events: StoredTraceEvent[], kind: K): Array<TraceEventOf<K> & { id: number }> {
  return events.filter((e): e is TraceEventOf<K> & { id: number } => e.kind === kind);
}

test('an accepted message: its connection, the refused recipient of its transaction with the decision, received and queued', async () => {
  const c = await client('127.0.0.1');
  await c.command('EHLO app.contoso.example');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('RCPT TO:<bad@[192.0.2.1]>'), '550 5.1.2 Address literal recipients not accepted');
  assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  c.write('From: App <app@contoso.example>\r\nSubject: traced\r\nMessage-ID: <trace1@contoso.example>\r\n\r\nbody\r\n.\r\n');
  const id = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/.exec(await c.read())?.[1];
  assert.ok(id);
  c.close();

  const story = await h.trace.story(id);
  assert.deepEqual(story.map((e) => e.kind), ['connected', 'refused', 'received', 'queued']);
  const [connected] = only(story, 'connected');
  assert.deepEqual(
    { listener: connected!.listener, peerIp: connected!.peerIp, viaProxy: connected!.viaProxy, helo: connected!.helo, tls: connected!.tls, certificate: connected!.certificate, tenant: connected!.tenant, connector: connected!.connector, clientIp: connected!.clientIp, status: connected!.status },
    { listener: 'smtp', peerIp: '127.0.0.1', viaProxy: false, helo: 'app.contoso.example', tls: null, certificate: null, tenant: 'contoso', connector: 'apps', clientIp: '127.0.0.1', status: null },
  );
  const [refused] = only(story, 'refused');
  assert.equal(refused!.reply, '550 5.1.2 Address literal recipients not accepted');
  assert.deepEqual([refused!.stage, refused!.status, refused!.reason, refused!.recipient, refused!.queueId, refused!.transaction], ['rcpt', 'Refused', 'hygiene', 'bad@[192.0.2.1]', null, 1]);
  assert.deepEqual([refused!.tenant, refused!.connector, refused!.decision.attribution], ['contoso', 'apps', 'ip']);
  assert.equal(refused!.recipientDecision?.verdict, 'rejected');
  const [received] = only(story, 'received');
  assert.deepEqual(
    [received!.queueId, received!.sender, received!.messageIdHeader, received!.subject, received!.headerFrom, received!.recipients, received!.status, received!.tenant, received!.connector],
    [id, 'app@contoso.example', '<trace1@contoso.example>', 'traced', 'app@contoso.example', 1, 'Pending', 'contoso', 'apps'],
  );
  assert.ok(received!.size > 0);
  const [queued] = only(story, 'queued');
  assert.deepEqual([queued!.recipient, queued!.verdict, queued!.reason, queued!.status, queued!.ruleSet], ['someone@elsewhere.example', 'relay', 'relay', 'Pending', '2023-11']);
  // Found by the fields an admin searches by.
  assert.deepEqual((await h.trace.search({ messageIdHeader: '<trace1@contoso.example>' })).events.map((e) => e.kind), ['queued', 'received']);
  assert.deepEqual((await h.trace.search({ recipientDomain: 'elsewhere.example', queueId: id })).events.map((e) => e.kind), ['queued']);
});

test('a relay refusal keeps the tenant and connector the connection was attributed to, in the trace and in the decision log', async () => {
  const c = await client('127.0.0.1');
  await c.command('EHLO app.contoso.example');
  assert.equal(await c.command('MAIL FROM:<someone@fabrikam-elsewhere.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<user@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  c.close();
  const events = await sessionEvents((e) => e.kind === 'refused' && e.sender === 'someone@fabrikam-elsewhere.example', 1);
  const [refused] = only(events, 'refused');
  assert.deepEqual([refused!.tenant, refused!.connector, refused!.reason, refused!.stage], ['contoso', 'apps', 'nobody', 'rcpt']);
  assert.deepEqual(refused!.decision.steps.map((s) => `${s.id}:${s.answer}`).slice(0, 3), ['A1:no', 'A2:yes', 'A3:yes']);
  assert.match(refused!.detail, /S5: someone@fabrikam-elsewhere\.example|S5: fabrikam-elsewhere\.example is not an accepted domain of contoso\./);
  const [row] = (await h.decisions.list({ sessionId: refused!.sessionId! })).filter((d) => d.verdict === 'rejected');
  assert.deepEqual([row!.tenant, row!.tenantId, row!.connector], ['contoso', refused!.tenantId, 'apps']);
});

test('a refusal at MAIL FROM (TLS required) is traced with its rule', async () => {
  const c = await client('127.0.0.5');
  await c.command('EHLO app.contoso.example');
  const reply = await c.command('MAIL FROM:<app@contoso.example>');
  assert.equal(reply, '530 5.7.0 Must issue a STARTTLS command first');
  c.close();
  const events = await sessionEvents((e) => e.kind === 'refused' && e.clientIp === '127.0.0.5', 1);
  assert.deepEqual(events.map((e) => e.kind), ['connected', 'refused']);
  const [refused] = only(events, 'refused');
  assert.deepEqual([refused!.stage, refused!.reply, refused!.reason, refused!.recipient, refused!.connector, refused!.recipientDecision], ['mail', reply, 'require-tls', null, 'secure-apps', null]);
});

test('a certificate whose name is not an accepted domain: the client gets 5.7.64, the trace says why (condition 1a) with the certificate', async () => {
  const c = await client('127.0.0.4', 'submission');
  await c.command('EHLO mail.northwind-mail.example');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade({ key: cert.key, cert: cert.cert });
  await c.command('EHLO mail.northwind-mail.example');
  assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<user@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  const protocol = c.tlsSocket?.getProtocol();
  c.close();
  const events = await sessionEvents((e) => e.kind === 'refused' && e.certName === 'mail.northwind-mail.example', 1);
  const [connected] = only(events, 'connected');
  assert.equal(connected!.tls?.version, protocol);
  assert.ok(connected!.tls?.cipher);
  const presented = connected!.certificate!;
  assert.deepEqual(
    [presented.subject, presented.sans, presented.trusted, presented.untrustedReason],
    ['CN=mail.northwind-mail.example', ['mail.northwind-mail.example', 'smtp.northwind-mail.example'], true, null],
  );
  assert.match(presented.issuer, /CN=/);
  assert.match(presented.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.ok(Date.parse(presented.validTo) > Date.parse(presented.validFrom));
  const [refused] = only(events, 'refused');
  assert.deepEqual([refused!.tenant, refused!.connector, refused!.decision.attribution, refused!.sender], ['northwind', 'mail', 'cert', '']);
  assert.match(refused!.detail, /S3: mail\.northwind-mail\.example is not an accepted domain of northwind: add it as an accepted domain\./);
  assert.ok(refused!.decision.remedies.length > 0, 'the remedies ride along');
  assert.deepEqual((await h.trace.search({ certName: 'MAIL.northwind-mail.example', status: ['Refused'] })).events.map((e) => e.id), [refused!.id]);
});

test('a message refused at end of DATA for its size is traced per recipient with the limit', async () => {
  const c = await client('127.0.0.1');
  await c.command('EHLO app.contoso.example');
  await c.command('MAIL FROM:<big@contoso.example>');
  await c.command('RCPT TO:<a@elsewhere.example>');
  await c.command('RCPT TO:<b@elsewhere.example>');
  await c.command('DATA');
  c.write(`From: big@contoso.example\r\nSubject: big\r\n\r\n${'x'.repeat(3000)}\r\n.\r\n`);
  assert.equal(await c.read(), '552 5.3.4 Message size exceeds fixed maximum message size');
  c.close();
  const events = await sessionEvents((e) => e.kind === 'refused' && e.sender === 'big@contoso.example', 2);
  const refused = only(events, 'refused');
  assert.deepEqual(refused.map((e) => [e.recipient, e.stage, e.reason, e.reply]), [
    ['a@elsewhere.example', 'data', 'message-size', '552 5.3.4 Message size exceeds fixed maximum message size'],
    ['b@elsewhere.example', 'data', 'message-size', '552 5.3.4 Message size exceeds fixed maximum message size'],
  ]);
  assert.equal(refused[0]!.detail, 'message exceeds 2000 bytes');
});

test('the legacy rule set refusing at end of DATA (header From not accepted) is traced at stage data', async () => {
  const c = await client('127.0.0.2');
  await c.command('EHLO scanner.oldco.example');
  await c.command('MAIL FROM:<scanner@elsewhere.example>');
  assert.equal(await c.command('RCPT TO:<user@elsewhere.example>'), '250 2.1.5 Recipient OK');
  await c.command('DATA');
  c.write('From: scanner@not-oldco.example\r\nSubject: scan\r\n\r\nscan\r\n.\r\n');
  assert.equal(await c.read(), '550 5.7.64 TenantAttribution; Relay Access Denied');
  c.close();
  const events = await sessionEvents((e) => e.kind === 'refused' && e.sender === 'scanner@elsewhere.example', 1);
  const [refused] = only(events, 'refused');
  assert.deepEqual([refused!.stage, refused!.tenant, refused!.connector, refused!.ruleSet, refused!.recipientDecision?.legacyVerdict], ['data', 'oldco', 'scanner', 'legacy', 'rejected']);
});
