/**
 * Hostile input against the live server: 100,000-character lines, NUL bytes and invalid UTF-8 in
 * commands and headers, a duplicate recipient at the recipient limit, messages at and just over the
 * size limit. Bad input gets its exact reply and changes nothing; input that is allowed arrives
 * byte for byte, and what relaygate reads from the headers or writes into them is what was sent.
 *
 * Covered elsewhere and not repeated: an over-long EHLO, the error and unknown-command limits
 * (smtp-limits.test.ts); invalid UTF-8 and non-ASCII in envelope addresses, with and without
 * SMTPUTF8, also after STARTTLS (smtp-address-encoding.test.ts); NUL in DATA at every position and
 * TCP segmentation (smtp-data-guard.test.ts, line-ending-guard.property.test.ts); 1,000 recipients
 * and the 1,001st, SIZE over the limit, an oversize DATA, a header block over 1 MB (smtp-data.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';

// A legacy tenant whose accepted domain is an IDN: its header From arrives as UTF-8.
const directory = `${testDirectoryYaml}
  - name: mueller
    relayRuleSet: legacy
    acceptedDomains:
      - { domain: müller.example }
    inboundConnectors:
      - { name: office, type: OnPremises, senderIPAddresses: [127.0.0.8/32] }
`;

const SMALL = 2048;
let h: Harness;
before(async () => {
  h = await startHarness({
    directory,
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'small', host: '127.0.0.1', port: 0, tls: 'none', maxMessageSize: SMALL },
    ],
  });
});
after(async () => {
  await h.stop();
});

const queuedReply = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/;
const LINE_TOO_LONG = '421 4.4.2 Error: Command line too long';

async function client(ip = '127.0.0.1', listener = 'smtp', ehlo: string | Buffer = 'EHLO client.example'): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port(listener), localAddress: ip });
  assert.match(await c.read(), /^220 /);
  c.write(Buffer.concat([typeof ehlo === 'string' ? Buffer.from(ehlo) : ehlo, Buffer.from('\r\n')]));
  assert.match(await c.read(), /^250-/);
  return c;
}

/** Sends raw bytes as one command line and returns the reply. */
async function raw(c: RawSmtpClient, line: Buffer | string): Promise<string> {
  c.write(Buffer.concat([typeof line === 'string' ? Buffer.from(line, 'latin1') : line, Buffer.from('\r\n')]));
  return c.read();
}

/** A whole transaction; the DATA as bytes. Returns the RCPT replies and the reply to the data. */
async function send(opts: { ip?: string; listener?: string; mailFrom: string; rcpts: string[]; data: Buffer | string; smtputf8?: boolean; ehlo?: string | Buffer }): Promise<{ rcpt: string[]; end: string; id: string | null }> {
  const c = await client(opts.ip, opts.listener, opts.ehlo);
  assert.equal(await raw(c, Buffer.from(`MAIL FROM:<${opts.mailFrom}>${opts.smtputf8 ? ' SMTPUTF8' : ''}`, 'utf8')), '250 2.1.0 Sender OK');
  const rcpt: string[] = [];
  for (const r of opts.rcpts) rcpt.push(await raw(c, Buffer.from(`RCPT TO:<${r}>`, 'utf8')));
  assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  c.write(typeof opts.data === 'string' ? Buffer.from(opts.data, 'latin1') : opts.data);
  const end = await c.read();
  c.close();
  return { rcpt, end, id: queuedReply.exec(end)?.[1] ?? null };
}

async function stored(id: string): Promise<Buffer> {
  const stream = await h.bodies.open(id);
  assert.ok(stream, `the body of ${id}`);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function entry(id: string): Promise<{ headerFrom: string | null; subject: string | null; recipients: string[] }> {
  const e = await h.entry(id);
  assert.ok(e, `the queue entry ${id}`);
  return { headerFrom: e.message.headerFrom, subject: e.message.subject, recipients: e.recipients.map((r) => r.address) };
}

const long = 'x'.repeat(100_000);

test('100,000-character command lines, with or without a line end: 421 and the connection closes', async () => {
  for (const line of [`MAIL FROM:<${long}@contoso.example>`, `RCPT TO:<someone@elsewhere.example> ${long}`, `XFORWARD ${long}`]) {
    const c = await client();
    assert.equal(await raw(c, line), LINE_TOO_LONG, line.slice(0, 12));
    assert.equal(await c.closed(), '');
  }
  const c = await client();
  c.write(long);
  assert.equal(await c.read(), LINE_TOO_LONG);
  assert.equal(await c.closed(), '');
});

test('100,000-character header and body lines are accepted and stored byte for byte; a bare CR inside one is still refused', async () => {
  const data = `From: <app@contoso.example>\r\nSubject: ${long}\r\n\r\n${long}\r\n.\r\n`;
  const ok = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data });
  assert.ok(ok.id, ok.end);
  assert.ok((await stored(ok.id)).toString('latin1').endsWith(`\r\nFrom: <app@contoso.example>\r\nSubject: ${long}\r\n\r\n${long}\r\n`));
  assert.equal((await entry(ok.id)).subject, long);
  const bad = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: `Subject: ${long}\r${long}\r\n\r\nbody\r\n.\r\n` });
  assert.equal(bad.end, '550 5.6.11 Bare CR or LF not allowed');
});

test('NUL bytes in commands: each gets its exact refusal, and the session goes on', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp') });
  assert.match(await c.read(), /^220 /);
  assert.equal(await raw(c, 'EHLO client\x00.example'), '501 Error: Bad hostname syntax');
  assert.match(await raw(c, 'EHLO client.example'), /^250-/);
  assert.equal(await raw(c, 'MA\x00IL FROM:<app@contoso.example>'), '500 5.5.2 Error: command not recognized');
  assert.equal(await raw(c, 'MAIL FROM:<app\x00@contoso.example>'), '501 5.1.7 Invalid sender address');
  assert.equal(await raw(c, 'MAIL FROM:<app@contoso.example> ENVID=a\x00b'), '501 5.1.7 Invalid sender address');
  assert.equal(await raw(c, 'MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await raw(c, 'RCPT TO:<info@contoso.example\x00.elsewhere.example>'), '501 5.1.3 Invalid recipient address');
  assert.equal(await raw(c, 'RCPT TO:<victim\x00@elsewhere.example>'), '501 5.1.3 Invalid recipient address');
  // A NUL written as xtext (RFC 3461) in ORCPT is a NUL all the same.
  assert.equal(await raw(c, 'RCPT TO:<someone@elsewhere.example> NOTIFY=SUCCESS ORCPT=rfc822;a+00b'), '501 5.1.3 Invalid recipient address');
  c.close();
  const nulHeader = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: 'Subject: a\x00b\r\n\r\nbody\r\n.\r\n' });
  assert.equal(nulHeader.end, '550 5.6.0 NUL characters not allowed');
});

test('invalid UTF-8 in a command verb is an unknown command; 8-bit header bytes pass through untouched', async () => {
  const c = await client();
  assert.equal(await raw(c, Buffer.from([0xff, 0xfe])), '500 5.5.2 Error: command not recognized');
  c.close();
  const header = Buffer.from('Subject: \xff\xfe caf\xe9\r\n\r\nbody \xc3\x28\r\n.\r\n', 'latin1');
  const m = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: header });
  assert.ok(m.id, m.end);
  const body = await stored(m.id);
  assert.ok(body.includes(header.subarray(0, header.length - 3)), 'the header and body bytes are stored as sent');
});

test('UTF-8 in the header From and Subject is read as UTF-8', async () => {
  const data = Buffer.from('From: Jörg <jörg@contoso.example>\r\nSubject: Grüße\r\n\r\nhallo\r\n.\r\n', 'utf8');
  const m = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data, smtputf8: true });
  assert.ok(m.id, m.end);
  assert.deepEqual(await entry(m.id), { headerFrom: 'jörg@contoso.example', subject: 'Grüße', recipients: ['someone@elsewhere.example'] });
  // Bytes that are not UTF-8 are not characters: they read as U+FFFD, never as Latin-1.
  const latin1 = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: Buffer.from('From: <j\xf6rg@contoso.example>\r\nSubject: Gr\xfc\xdfe\r\n\r\nhallo\r\n.\r\n', 'latin1') });
  assert.ok(latin1.id, latin1.end);
  assert.deepEqual(await entry(latin1.id), { headerFrom: 'j\ufffdrg@contoso.example', subject: 'Gr\ufffd\ufffde', recipients: ['someone@elsewhere.example'] });
});

test('the Received header relaygate adds to an SMTPUTF8 message is UTF-8', async () => {
  const m = await send({ mailFrom: 'app@contoso.example', rcpts: ['jörg@bücher.example'], data: 'Subject: utf8\r\n\r\nx\r\n.\r\n', smtputf8: true });
  assert.ok(m.id, m.end);
  const body = await stored(m.id);
  assert.ok(isUtf8(body), `the stored message is valid UTF-8: ${JSON.stringify(body.subarray(0, 200).toString('latin1'))}`);
  assert.match(body.toString('utf8'), /\r\n\tid [0-9a-z]{20} for <jörg@xn--bcher-kva\.example>;\r\n/);
});

test('legacy rules: a UTF-8 header From in the IDN accepted domain relays (1c); invalid UTF-8 next to an accepted domain never does', async () => {
  const relay = (from: Buffer) =>
    send({ ip: '127.0.0.8', mailFrom: 'scanner@foreign.example', rcpts: ['office@elsewhere.example'], data: Buffer.concat([Buffer.from('From: '), from, Buffer.from('\r\nSubject: scan\r\n\r\npage\r\n.\r\n')]) });
  const ok = await relay(Buffer.from('<scanner@müller.example>', 'utf8'));
  assert.deepEqual(ok.rcpt, ['250 2.1.5 Recipient OK']);
  assert.match(ok.end, queuedReply);
  for (const from of [Buffer.from('<scanner@m\xfcller.example>', 'latin1'), Buffer.from('<scanner@m\xc3ller.example>', 'latin1'), Buffer.from('<scanner@oldco.exampl\xe9>', 'latin1')]) {
    const refused = await relay(from);
    assert.equal(refused.end, '550 5.7.64 TenantAttribution; Relay Access Denied', from.toString('latin1'));
  }
});

test('a HELO name that is not ASCII reaches the Received header as ASCII: an IDN as its A-label, anything else as ?', async () => {
  const received = async (ehlo: Buffer): Promise<string> => {
    const m = await send({ mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: 'Subject: helo\r\n\r\nx\r\n.\r\n', ehlo });
    assert.ok(m.id, m.end);
    return (await stored(m.id)).toString('latin1').split('\r\n')[0]!;
  };
  assert.equal(await received(Buffer.from('EHLO \xff\xfe.example', 'latin1')), 'Received: from ??.example ([127.0.0.1])');
  assert.equal(await received(Buffer.from('EHLO müller.example', 'utf8')), 'Received: from xn--mller-kva.example ([127.0.0.1])');
});

test('a repeated recipient at the limit is the same recipient: it does not count, the next new one is refused', async () => {
  const c = await client();
  await c.command('MAIL FROM:<app@contoso.example>');
  c.write(Array.from({ length: 1000 }, (_, i) => `RCPT TO:<user${i}@elsewhere.example>\r\n`).join(''));
  for (let i = 0; i < 1000; i++) assert.equal(await c.read(), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('RCPT TO:<USER0@elsewhere.example>'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('RCPT TO:<user1000@elsewhere.example>'), '452 4.5.3 Too many recipients');
  await c.command('DATA');
  c.write('Subject: many\r\n\r\nhi\r\n.\r\n');
  const id = queuedReply.exec(await c.read())?.[1];
  assert.ok(id);
  c.close();
  assert.equal((await entry(id)).recipients.length, 1000);
});

/** A message of exactly `size` bytes as the server counts them (after dot-unstuffing). */
function messageOf(size: number, dotted = false): string {
  const head = 'Subject: size\r\n\r\n';
  const first = dotted ? '.leading dot\r\n' : '';
  return head + first + 'y'.repeat(size - head.length - first.length - 2) + '\r\n';
}

test('the size limit: a message of exactly maxMessageSize bytes is accepted, one byte more is refused', async () => {
  const at = await send({ listener: 'small', mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: `${messageOf(SMALL)}.\r\n` });
  assert.match(at.end, queuedReply);
  const over = await send({ listener: 'small', mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: `${messageOf(SMALL + 1)}.\r\n` });
  assert.equal(over.end, '552 5.3.4 Message size exceeds fixed maximum message size');
  // Dot-stuffing adds a byte on the wire, not to the message.
  const stuffed = messageOf(SMALL, true).replace('\r\n.leading', '\r\n..leading');
  const dotted = await send({ listener: 'small', mailFrom: 'app@contoso.example', rcpts: ['someone@elsewhere.example'], data: `${stuffed}.\r\n` });
  assert.match(dotted.end, queuedReply);
  const c = await client('127.0.0.1', 'small');
  assert.equal(await c.command(`MAIL FROM:<app@contoso.example> SIZE=${SMALL}`), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RSET'), '250 2.0.0 Flushed');
  assert.equal(await c.command(`MAIL FROM:<app@contoso.example> SIZE=${SMALL + 1}`), '552 5.3.4 Message size exceeds fixed maximum message size');
  c.close();
});
