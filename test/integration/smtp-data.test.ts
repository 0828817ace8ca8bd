import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { RawSmtpClient } from '../support/smtp-client.js';
import { bodyText, startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { waitFor } from '../support/wait-for.js';

let h: Harness;
before(async () => {
  h = await startHarness({
    directory: testDirectoryYaml,
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'small', host: '127.0.0.1', port: 0, tls: 'none', maxMessageSize: 2048 },
      { name: 'v6', host: '::1', port: 0, tls: 'none' },
    ],
  });
});
after(async () => {
  await h.stop();
});

async function client(localAddress = '127.0.0.1', listener = 'smtp'): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: listener === 'v6' ? '::1' : '127.0.0.1', port: h.port(listener), localAddress });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO client.example'), /^250-/);
  return c;
}

async function messagesFrom(ip: string): Promise<string[]> {
  return (await h.queued()).filter((e) => e.message.clientIp === ip).map((e) => e.message.id);
}

function spoolFiles(): number {
  let n = 0;
  for (const d of readdirSync(join(h.dataDir, 'spool'))) n += readdirSync(join(h.dataDir, 'spool', d)).length;
  return n;
}

const queued = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/;

const smuggling = ['\n.\n', '\n.\r\n', '\r\n.\n', '\r.\r', '\r.\r\n'];
for (const variant of smuggling) {
  test(`smuggling ${JSON.stringify(variant)} never splits a message: 550 5.6.11 and the connection closes`, async () => {
    const before = (await messagesFrom('127.0.0.1')).length;
    const c = await client();
    assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<a@elsewhere.example>'), '250 2.1.5 Recipient OK');
    assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    c.write(
      `Subject: first\r\n\r\nbody${variant}MAIL FROM:<app@contoso.example>\r\nRCPT TO:<victim@elsewhere.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n`,
    );
    assert.equal(await c.read(), '550 5.6.11 Bare CR or LF not allowed');
    assert.equal(await c.closed(), '');
    assert.equal((await messagesFrom('127.0.0.1')).length, before);
  });
}

test('a connector with allowBareLineEndings: normalize gets CRLF line endings and still one message', async () => {
  const c = await client('127.0.0.3');
  assert.equal(await c.command('MAIL FROM:<printer@devices.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<office@elsewhere.example>'), '250 2.1.5 Recipient OK');
  await c.command('DATA');
  c.write('Subject: scan\nFrom: printer@devices.example\n\npage 1\n.\nMAIL FROM:<evil@devices.example>\rline\r\n.\r\n');
  const id = queued.exec(await c.read())?.[1];
  assert.ok(id);
  assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
  assert.equal((await h.entry(id))?.message.headerFrom, 'printer@devices.example');
  const text = await bodyText(h.bodies, id);
  assert.ok(text !== null, 'the body is stored');
  assert.ok(text.endsWith('\r\n\r\npage 1\r\n.\r\nMAIL FROM:<evil@devices.example>\r\nline\r\n'), JSON.stringify(text));
  assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/);
});

test('SIZE over the listener limit is refused at MAIL FROM, and an oversize DATA after its end', async () => {
  const c = await client('127.0.0.1', 'small');
  assert.match(await c.command('EHLO again.example'), /\n250[- ]SIZE 2048(\n|$)/);
  assert.equal(await c.command('MAIL FROM:<app@contoso.example> SIZE=4096'), '552 5.3.4 Message size exceeds fixed maximum message size');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example> SIZE=1000'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<a@elsewhere.example>'), '250 2.1.5 Recipient OK');
  // Counted before DATA: the body of the message is created when DATA starts, and must be gone after.
  const files = spoolFiles();
  await c.command('DATA');
  c.write(`Subject: big\r\n\r\n${'x'.repeat(70).concat('\r\n').repeat(60)}.\r\n`);
  assert.equal(await c.read(), '552 5.3.4 Message size exceeds fixed maximum message size');
  assert.equal(spoolFiles(), files);
  assert.equal(await c.command('RSET'), '250 2.0.0 Flushed');
  assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
});

test('1000 recipients are accepted, the 1001st gets 452 4.5.3, and the message keeps the 1000', async () => {
  const c = await client();
  await c.command('MAIL FROM:<app@contoso.example>');
  c.write(Array.from({ length: 1001 }, (_, i) => `RCPT TO:<user${i}@elsewhere.example>\r\n`).join(''));
  const replies: string[] = [];
  for (let i = 0; i < 1001; i++) replies.push(await c.read());
  assert.equal(replies.filter((r) => r === '250 2.1.5 Recipient OK').length, 1000);
  assert.equal(replies[1000], '452 4.5.3 Too many recipients');
  await c.command('DATA');
  c.write('Subject: many\r\n\r\nhi\r\n.\r\n');
  const id = queued.exec(await c.read())?.[1];
  assert.ok(id);
  c.close();
  assert.equal((await h.entry(id))?.recipients.length, 1000);
});

test('legacy rule set: when the header From fails and nothing remains, DATA gets 5.7.64 even if the recipient\'s tenant would refuse otherwise', async () => {
  // oldco (legacy) from 127.0.0.2 to fabrikam: pending at RCPT; at end of DATA 1c fails and the
  // recipient falls to fabrikam's partner restriction (5.7.51), but §4's timing rule answers 5.7.64.
  const before = (await messagesFrom('127.0.0.2')).length;
  const c = await client('127.0.0.2');
  assert.equal(await c.command('MAIL FROM:<scanner@partner.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<someone@fabrikam.example>'), '250 2.1.5 Recipient OK');
  await c.command('DATA');
  c.write('From: Scanner <scanner@foreign.example>\r\nSubject: scan\r\n\r\npage\r\n.\r\n');
  assert.equal(await c.read(), '550 5.7.64 TenantAttribution; Relay Access Denied');
  c.close();
  assert.equal((await messagesFrom('127.0.0.2')).length, before);
});

test('legacy rule set: a relay recipient pending at RCPT is decided by the header From at end of DATA', async () => {
  const send = async (mailFrom: string, rcpts: string[], headerFrom: string) => {
    const c = await client('127.0.0.2');
    assert.equal(await c.command(`MAIL FROM:<${mailFrom}>`), '250 2.1.0 Sender OK');
    for (const r of rcpts) assert.equal(await c.command(`RCPT TO:${r}`), '250 2.1.5 Recipient OK');
    await c.command('DATA');
    c.write(`From: Scanner <${headerFrom}>\r\nSubject: scan\r\n\r\npage\r\n.\r\n`);
    const reply = await c.read();
    c.close();
    return reply;
  };
  // P2 accepted: relayed.
  const ok = queued.exec(await send('scanner@foreign.example', ['<x@elsewhere.example>'], 'scanner@oldco.example'))?.[1];
  assert.ok(ok);
  assert.deepEqual((await h.entry(ok))?.recipients.map((r) => r.state), ['queued']);
  // P2 foreign and no other recipient: the DATA is refused and nothing is queued.
  const before = (await messagesFrom('127.0.0.2')).length;
  assert.equal(await send('scanner@foreign.example', ['<x@elsewhere.example>'], 'scanner@foreign.example'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  assert.equal((await messagesFrom('127.0.0.2')).length, before);
  // Mixed: the internal recipient is kept, the relay one fails with a DSN owed.
  const mixed = queued.exec(
    await send('scanner@foreign.example', ['<info@oldco.example>', '<y@elsewhere.example> NOTIFY=FAILURE'], 'scanner@foreign.example'),
  )?.[1];
  assert.ok(mixed);
  const rows = (await h.entry(mixed))?.recipients
    .map((r) => ({ address: r.address, state: r.state, last_reply: r.lastReply, dsn_status: r.dsnStatus }))
    .sort((a, b) => a.address.localeCompare(b.address));
  assert.deepEqual(rows, [
    { address: 'info@oldco.example', state: 'queued', last_reply: null, dsn_status: null },
    { address: 'y@elsewhere.example', state: 'failed', last_reply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsn_status: 'owed' },
  ]);
  // A null sender gets no DSN, nor does NOTIFY=NEVER.
  const nullSender = queued.exec(await send('', ['<info@oldco.example>', '<z@elsewhere.example>'], 'scanner@foreign.example'))?.[1];
  const never = queued.exec(await send('scanner@foreign.example', ['<info@oldco.example>', '<w@elsewhere.example> NOTIFY=NEVER'], 'x@foreign.example'))?.[1];
  for (const id of [nullSender, never]) {
    assert.ok(id);
    assert.deepEqual((await h.entry(id))?.recipients.filter((r) => r.state === 'failed').map((r) => r.dsnStatus), ['suppressed']);
  }
  await h.relay.acceptor.drain();
  const endOfData = await h.decisions.list({ messageId: mixed! });
  assert.deepEqual(endOfData.map((d) => [d.recipient, d.verdict, d.ruleSet]).sort(), [
    ['info@oldco.example', 'internal', 'legacy'],
    ['y@elsewhere.example', 'rejected', 'legacy'],
  ]);
  // What the impact report reads: relayed only because the header From is accepted (1c), with P2's domain and the engine's remedies.
  const [onlyByP2] = await h.decisions.list({ messageId: ok });
  assert.deepEqual([onlyByP2?.verdict, onlyByP2?.currentVerdict, onlyByP2?.legacyVerdict, onlyByP2?.headerFromDomain], ['relay', 'rejected', 'relay', 'oldco.example']);
  assert.deepEqual(onlyByP2?.remedies.map((r) => r.rank), [1, 3]);
});

test('a storage failure answers 451 4.3.0 and leaves nothing behind', async () => {
  h.db.exec("CREATE TRIGGER fail_messages BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END");
  try {
    const files = spoolFiles();
    const c = await client();
    await c.command('MAIL FROM:<app@contoso.example>');
    await c.command('RCPT TO:<a@elsewhere.example>');
    await c.command('DATA');
    c.write('Subject: x\r\n\r\ny\r\n.\r\n');
    assert.equal(await c.read(), '451 4.3.0 Temporary server error, please try again later');
    assert.equal(spoolFiles(), files);
    assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK', 'the session goes on');
    c.close();
    assert.ok(h.errors.some((e) => /disk I\/O error \(simulated\)/.test(e)), h.errors.join('\n'));
    const logged = h.errorFields[h.errors.findIndex((e) => /disk I\/O error \(simulated\)/.test(e))];
    assert.equal(logged?.code, 'store-unavailable', 'the detail goes to the log with its code; the client saw only the generic reply');
    assert.match(String((logged?.causes as string[] | undefined)?.[0]), /disk I\/O error \(simulated\)/);
  } finally {
    h.db.exec('DROP TRIGGER fail_messages');
  }
});

test('nodemailer over IPv4 and ::1; concurrent sessions share commit rounds (group commit)', async () => {
  const v4 = nodemailer.createTransport({ host: '127.0.0.1', port: h.port('smtp'), secure: false, ignoreTLS: true, pool: true, maxConnections: 10 });
  const v6 = nodemailer.createTransport({ host: '::1', port: h.port('v6'), secure: false, ignoreTLS: true });
  try {
    const info6 = await v6.sendMail({ from: 'app@contoso.example', to: 'someone@elsewhere.example', subject: 'v6', text: 'hello over ::1' });
    assert.match(info6.response, queued);
    const roundsBefore = h.relay.acceptor.stats.rounds;
    const n = 30;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => v4.sendMail({ from: 'app@contoso.example', to: `r${i}@elsewhere.example`, subject: `m${i}`, text: 'body' })),
    );
    for (const r of results) assert.match(r.response, queued);
    const rounds = h.relay.acceptor.stats.rounds - roundsBefore;
    console.log(`group commit: ${n} messages over 10 connections in ${rounds} commit rounds`);
    assert.ok(rounds < n, `${rounds} rounds for ${n} messages`);
  } finally {
    v4.close();
    v6.close();
  }
});

test('a client that disconnects in the middle of DATA leaves no file and no message', async () => {
  const files = spoolFiles();
  const before = (await messagesFrom('127.0.0.1')).length;
  const c = await client();
  await c.command('MAIL FROM:<app@contoso.example>');
  await c.command('RCPT TO:<a@elsewhere.example>');
  await c.command('DATA');
  c.write('Subject: cut\r\n\r\nhalf a mess');
  // The cut must come while the file exists, or there would be nothing to clean up.
  await waitFor(() => spoolFiles() === files + 1, { message: () => `the spool file of the message being received (${spoolFiles() - files} new)` });
  c.close();
  await waitFor(() => spoolFiles() === files, { message: () => `the spool file removed after the disconnect (${spoolFiles() - files} left)` });
  assert.equal(spoolFiles(), files);
  assert.equal((await messagesFrom('127.0.0.1')).length, before);
});

test('a header block over 1 MB is refused permanently after the DATA', async () => {
  const c = await client();
  await c.command('MAIL FROM:<app@contoso.example>');
  await c.command('RCPT TO:<a@elsewhere.example>');
  await c.command('DATA');
  c.write(`Subject: big\r\n${'X-Filler: '.concat('y'.repeat(990), '\r\n').repeat(1100)}\r\nbody\r\n.\r\n`);
  assert.equal(await c.read(), '552 5.3.4 Message header size exceeds limit');
  assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
});
