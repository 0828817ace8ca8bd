import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { bodyText, startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { waitFor } from '../support/wait-for.js';

let h: Harness;
before(async () => {
  h = await startHarness({ directory: testDirectoryYaml });
});
after(async () => {
  await h.stop();
});

async function client(localAddress = '127.0.0.1'): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress });
  assert.match(await c.read(), /^220 relay\.test ESMTP relaygate$/);
  return c;
}

const queueIdReply = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/;

test('EHLO offers the extensions a mail admin expects and no AUTH', async () => {
  const c = await client();
  const ehlo = await c.command('EHLO app.contoso.example');
  const lines = ehlo.split('\n').map((l) => l.slice(4));
  for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', `SIZE ${36 * 1024 * 1024}`]) {
    assert.ok(lines.includes(ext), `${ext} in ${ehlo}`);
  }
  assert.ok(!lines.some((l) => l.startsWith('AUTH')), ehlo);
  assert.ok(!lines.includes('STARTTLS'), 'no STARTTLS on a tls: none listener');
  c.close();
});

test('an application on 127.0.0.1 relays with an accepted P1 and gets its queue id', async () => {
  const c = await client();
  await c.command('EHLO app.contoso.example');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;someone@elsewhere.example'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  c.write('From: App <app@contoso.example>\r\nX-Relaygate-Tenant: forged\r\nSubject: hello\r\nMessage-ID: <m1@contoso.example>\r\n\r\nbody line\r\n..leading dot\r\n.\r\n');
  const reply = await c.read();
  const id = queueIdReply.exec(reply)?.[1];
  assert.ok(id, reply);
  assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');

  const entry = await h.entry(id);
  assert.ok(entry);
  const row = entry.message;
  assert.equal(row.tenant, 'contoso');
  assert.equal(row.subject, 'hello');
  assert.deepEqual(entry.recipients.map((r) => [r.address, r.state]), [['someone@elsewhere.example', 'queued']]);
  assert.equal(row.attribution, 'ip');
  assert.equal(row.connector, 'apps');
  assert.equal(row.directionality, 'Originating');
  assert.equal(row.headerFrom, 'app@contoso.example');
  assert.equal(row.messageIdHeader, '<m1@contoso.example>');
  assert.equal(row.clientIp, '127.0.0.1');
  assert.equal(row.clientHelo, 'app.contoso.example');
  assert.deepEqual(entry.recipients.map((r) => ({ notify: r.notify, orcpt: r.orcpt })), [{ notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;someone@elsewhere.example' }]);

  const stored = await bodyText(h.bodies, id);
  assert.ok(stored !== null, 'the body is stored');
  const [head, body] = stored.split('\r\n\r\n');
  assert.match(head!, new RegExp(`^Received: from app\\.contoso\\.example \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby relay\\.test \\(relaygate\\) with ESMTP\\r\\n\\tid ${id} for <someone@elsewhere\\.example>;\\r\\n\\t\\w{3}, `));
  assert.match(head!, /\r\nX-Relaygate-Tenant: contoso\r\nX-Relaygate-Connector: apps\r\nX-Relaygate-Attribution: ip\r\nX-Relaygate-Directionality: Originating\r\nFrom: App <app@contoso.example>\r\nSubject: hello/);
  assert.doesNotMatch(stored, /forged/);
  assert.equal(body, 'body line\r\n.leading dot\r\n');
  assert.equal(row.size, Buffer.byteLength(stored));
});

test('an unauthorised relay gets 5.7.64 at RCPT and the decision is recorded', async () => {
  const c = await client('127.0.0.4');
  await c.command('EHLO stranger.example');
  assert.equal(await c.command('MAIL FROM:<x@stranger.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<victim@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  assert.equal(await c.command('RCPT TO:<a%b@contoso.example>'), '501 5.1.3 Invalid recipient address');
  assert.equal(await c.command('RCPT TO:<info@contoso.example>'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
  await c.closed();
  // The accept of the unfinished transaction is written when the session closes.
  const refused = await waitFor(
    async () => {
      await h.relay.acceptor.drain();
      const found = (await h.decisions.list({ limit: 50 })).filter((d) => d.clientIp === '127.0.0.4');
      return found.length >= 3 && found;
    },
    { message: 'the three decisions of 127.0.0.4' },
  );
  assert.deepEqual(
    refused.map((d) => [d.recipient, d.verdict, d.reply]).reverse(),
    [
      ['victim@elsewhere.example', 'rejected', '550 5.7.64 TenantAttribution; Relay Access Denied'],
      ['a%b@contoso.example', 'rejected', '501 5.1.3 Invalid recipient address'],
      ['info@contoso.example', 'inbound', '250 2.1.5 Recipient OK'],
    ],
  );
  assert.equal(refused[0]?.messageId, null);
});

test('requireTls on the attributing connector refuses MAIL FROM in cleartext', async () => {
  const c = await client('127.0.0.5');
  await c.command('EHLO secure-app.contoso.example');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '530 5.7.0 Must issue a STARTTLS command first');
  c.close();
});

test('commands out of order and unknown commands get smtp-server replies, not a crash', async () => {
  const c = await client();
  assert.equal(await c.command('MAIL FROM:<a@contoso.example>'), '503 5.5.1 Error: send HELO/EHLO first');
  await c.command('EHLO x');
  assert.equal(await c.command('RCPT TO:<a@contoso.example>'), '503 5.5.1 Error: need MAIL command');
  assert.equal(await c.command('DATA'), '503 5.5.1 Error: need RCPT command');
  assert.equal(await c.command('AUTH PLAIN AGFiYwBkZWY='), '500 5.5.2 Error: command not recognized');
  c.close();
});

test('DSN, BODY and SMTPUTF8 parameters are stored with the message', async () => {
  const c = await client();
  await c.command('EHLO app.contoso.example');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example> RET=HDRS ENVID=QQ314159 BODY=8BITMIME SMTPUTF8'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example> NOTIFY=NEVER'), '250 2.1.5 Recipient OK');
  await c.command('DATA');
  c.write('Subject: params\r\n\r\nx\r\n.\r\n');
  const id = queueIdReply.exec(await c.read())?.[1];
  c.close();
  assert.ok(id);
  const entry = await h.entry(id);
  const m = entry?.message;
  assert.deepEqual(m && { envId: m.envId, ret: m.ret, bodyType: m.bodyType, smtputf8: m.smtputf8 }, { envId: 'QQ314159', ret: 'HDRS', bodyType: '8bitmime', smtputf8: true });
  assert.deepEqual(entry?.recipients.map((r) => r.notify), ['NEVER']);
});

test('inbound mail for a tenant: Partner restrictions, TLS required by a Partner connector, Direct Send', async () => {
  const c = await client('127.0.0.4');
  await c.command('EHLO outside.example');
  await c.command('MAIL FROM:<ceo@fabrikam.example>');
  assert.equal(await c.command('RCPT TO:<info@fabrikam.example>'), '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources');
  await c.command('RSET');
  await c.command('MAIL FROM:<sales@partner.example>');
  assert.equal(
    await c.command('RCPT TO:<info@fabrikam.example>'),
    "550 5.7.51 TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set",
  );
  await c.command('RSET');
  await c.command('MAIL FROM:<sales@secure-partner.example>');
  assert.equal(await c.command('RCPT TO:<info@fabrikam.example>'), '530 5.7.0 Must issue a STARTTLS command first');
  c.close();
  const p = await client('127.0.0.7');
  await p.command('EHLO partner.example');
  await p.command('MAIL FROM:<sales@partner.example>');
  assert.equal(await p.command('RCPT TO:<info@fabrikam.example>'), '250 2.1.5 Recipient OK');
  p.close();
});
