/**
 * The SMTP smuggling corpus of the two public tools, hannob/smtpsmug and
 * The-Login/SMTP-Smuggling-Tools, restated as data: their malformed ends of DATA, each sent in the
 * message shape of each tool, from a tenant's application relaying out, from a stranger sending in,
 * and from the connector that normalizes bare line endings; and their pipelining test.
 *
 * A vector passes when relaygate accepts a message that still holds a bare CR, a bare LF or a NUL
 * (a next hop could end the DATA there), or when the smuggled second message is queued without its
 * own decision. Already covered elsewhere, in other byte shapes: five of these endings with a
 * smuggled transaction in smtp-data.test.ts, the NUL vectors and TCP segmentation in
 * smtp-data-guard.test.ts, every ending at every chunk boundary in line-ending-guard.property.test.ts,
 * and the dot-stuffing of a forwarded body in src/delivery/smtp-client.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { bodyText, startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';

/** The ends of DATA the tools send; `tools` names which lists each one. */
const endings: ReadonlyArray<{ name: string; bytes: string; tools: string }> = [
  { name: 'lflf', bytes: '\n.\n', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  { name: 'crcr', bytes: '\r.\r', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  { name: 'crlf', bytes: '\r.\n', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  { name: 'lfcr', bytes: '\n.\r', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  { name: 'lfcrlf', bytes: '\n.\r\n', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  { name: 'crlflf', bytes: '\r\n.\n', tools: 'smtpsmug' },
  { name: 'crcrlf', bytes: '\r.\r\n', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  { name: 'crlfcr', bytes: '\r\n.\r', tools: 'smtpsmug' },
  { name: 'nullbefore', bytes: '\r\n\x00.\r\n', tools: 'smtpsmug, SMTP-Smuggling-Tools' },
  // smtpsmug's table gives this name the bytes of nullbefore; the NUL after the dot is what it names.
  { name: 'nullafter', bytes: '\r\n.\x00\r\n', tools: 'smtpsmug' },
  { name: 'crlf-dot-crcrlf', bytes: '\r\n.\r\r\n', tools: 'SMTP-Smuggling-Tools (outbound)' },
  { name: 'crcrlf-dot-crcrlf', bytes: '\r\r\n.\r\r\n', tools: 'SMTP-Smuggling-Tools (outbound)' },
];

/**
 * The DATA each tool sends around an ending E (headers first, CRLF line ends elsewhere):
 * - smtpsmug: one body line, then E; with no answer it sends one more line and a proper end.
 * - SMTP-Smuggling-Tools, inbound: one body line, E, then a whole smuggled transaction in lower-case
 *   commands, and a proper end.
 * - SMTP-Smuggling-Tools, outbound: E between two marker lines, then a proper end.
 */
const shapes: ReadonlyArray<{ name: string; data: (e: string, from: string, to: string) => string }> = [
  {
    name: 'smtpsmug',
    data: (e, from, to) =>
      `${headers(from, to, 'Hello World')}This is a test mail with an ending.\r\n${e}This is after a bad mail ending.\r\n\r\n.\r\n`,
  },
  {
    name: 'SMTP-Smuggling-Tools inbound',
    data: (e, from, to) =>
      `${headers(from, to, 'CHECK EMAIL')}TESTING as "fake" end-of-data sequence!\r\n${e}\r\n` +
      `mail FROM:<smuggled@${from.split('@')[1]}>\r\nrcpt TO:<${to}>\r\ndata\r\n` +
      `${headers(`smuggled@${from.split('@')[1]}`, to, 'SMUGGLED EMAIL')}SMUGGLING WORKS\r\n.\r\n`,
  },
  {
    name: 'SMTP-Smuggling-Tools outbound',
    data: (e, from, to) => `${headers(from, to, 'Trying EOD')}TESTING as "fake" end-of-data sequence!\r\nSMUGGLINGSTART\r\n${e}\r\nSMUGGLINGEND\r\n.\r\n`,
  },
];

function headers(from: string, to: string, subject: string): string {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Mon, 02 Mar 2026 08:00:00 +0000\r\nMessage-ID: <probe@${from.split('@')[1]}>\r\n\r\n`;
}

/** Who sends: the bare-line-ending policy of its connector decides the expected outcome. */
const senders = [
  { name: "contoso's application relaying out", ip: '127.0.0.1', from: 'app@contoso.example', to: 'someone@elsewhere.example', mode: 'reject' },
  { name: 'a stranger sending in', ip: '127.0.0.4', from: 'x@stranger.example', to: 'info@contoso.example', mode: 'reject' },
  { name: 'the normalize connector relaying out', ip: '127.0.0.3', from: 'printer@devices.example', to: 'office@elsewhere.example', mode: 'normalize' },
] as const;

const R = {
  bare: '550 5.6.11 Bare CR or LF not allowed',
  nul: '550 5.6.0 NUL characters not allowed',
  data: '354 End data with <CR><LF>.<CR><LF>',
};
const queuedReply = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/;

/** The contract in reject mode: the first NUL or bare CR/LF of the DATA decides the reply. */
function rejectReply(data: string): string | null {
  const bad = /\x00|\r(?!\n)|(?<!\r)\n/.exec(data);
  return bad ? (bad[0] === '\x00' ? R.nul : R.bare) : null;
}

let h: Harness;
before(async () => {
  h = await startHarness({ directory: testDirectoryYaml, limits: { maxConnectionsPerIp: 200, maxConnectionsPerNetwork: 400 } });
});
after(async () => {
  await h.stop();
});

function messagesFrom(ip: string): string[] {
  return (h.db.prepare('SELECT id FROM messages WHERE client_ip = ? ORDER BY id').all(ip) as Array<{ id: string }>).map((r) => r.id);
}

async function openTransaction(ip: string, from: string, to: string): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: ip });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO smuggler.example'), /^250-/);
  assert.equal(await c.command(`MAIL FROM:<${from}>`), '250 2.1.0 Sender OK');
  assert.equal(await c.command(`RCPT TO:<${to}>`), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('DATA'), R.data);
  return c;
}

interface Attempt {
  vector: string;
  shape: string;
  sender: string;
  passed: boolean;
}
const attempts: Attempt[] = [];

for (const sender of senders) {
  test(`smuggling corpus from ${sender.name}: ${sender.mode === 'reject' ? 'refused with the exact reply, connection closed, nothing queued' : 'one message, CRLF only, no NUL'}`, async () => {
    const before = messagesFrom(sender.ip);
    const failures: string[] = [];
    const run = async (ending: (typeof endings)[number], shape: (typeof shapes)[number]): Promise<void> => {
      const data = shape.data(ending.bytes, sender.from, sender.to);
      const label = `${ending.name} (${JSON.stringify(ending.bytes)}) in the ${shape.name} shape`;
      const c = await openTransaction(sender.ip, sender.from, sender.to);
      c.write(data);
      const reply = await c.read();
      let passed: boolean;
      if (sender.mode === 'reject') {
        const expected = rejectReply(data);
        // After the refusal the connection closes: nothing smuggled behind the ending is answered.
        const rest = reply === expected ? await c.closed() : (c.close(), '');
        passed = reply !== expected || rest !== '';
        if (passed) failures.push(`${label}: got ${JSON.stringify(reply + rest)}, expected ${expected} and a close`);
      } else {
        const id = queuedReply.exec(reply)?.[1];
        const stored = id ? await bodyText(h.bodies, id) : null;
        passed = stored === null || /\x00/.test(stored) || /[\r\n]/.test(stored.replace(/\r\n/g, ''));
        if (passed) failures.push(`${label}: got ${reply}, stored ${JSON.stringify(stored)}`);
        assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
      }
      attempts.push({ vector: ending.name, shape: shape.name, sender: sender.name, passed });
    };
    // Sessions in parallel: smtp-server holds every greeting back 100 ms.
    await Promise.all(endings.flatMap((e) => shapes.map((s) => run(e, s))));
    assert.deepEqual(failures, []);
    const after = messagesFrom(sender.ip).filter((id) => !before.includes(id));
    // One message per attempt from the normalize connector, none otherwise: no smuggled second message.
    assert.equal(after.length, sender.mode === 'reject' ? 0 : endings.length * shapes.length);
  });
}

test('pipelining (smtpsmug `pipelining`, SMTP-Smuggling-Tools): a second transaction after the end of DATA is judged like any other', async () => {
  const second = (to: string) => `MAIL FROM:<x@stranger.example>\r\nRCPT TO:<${to}>\r\nDATA\r\n${headers('x@stranger.example', to, 'Hello World 2')}This is mail 2/2\r\n.\r\n`;
  // A stranger: the first message is inbound for contoso; the pipelined one tries to relay and is refused.
  const before = messagesFrom('127.0.0.4');
  const c = await openTransaction('127.0.0.4', 'x@stranger.example', 'info@contoso.example');
  c.write(`${headers('x@stranger.example', 'info@contoso.example', 'Hello World')}This is mail 1/2\r\n.\r\n${second('victim@elsewhere.example')}`);
  const first = queuedReply.exec(await c.read())?.[1];
  assert.ok(first, 'the first message is accepted');
  assert.equal(await c.read(), '250 2.1.0 Sender OK');
  assert.equal(await c.read(), '550 5.7.64 TenantAttribution; Relay Access Denied');
  assert.equal(await c.read(), '503 5.5.1 Error: need RCPT command');
  c.close();
  assert.deepEqual(messagesFrom('127.0.0.4').filter((id) => !before.includes(id)), [first]);
  attempts.push({ vector: 'pipelining', shape: 'smtpsmug', sender: 'a stranger sending in', passed: false });

  // Inbound for contoso both times: two messages, each with its own recipient decision.
  const d = await openTransaction('127.0.0.4', 'x@stranger.example', 'info@contoso.example');
  d.write(`${headers('x@stranger.example', 'info@contoso.example', 'Hello World')}This is mail 1/2\r\n.\r\n${second('sales@contoso.example')}`);
  const ids = [queuedReply.exec(await d.read())?.[1]];
  assert.equal(await d.read(), '250 2.1.0 Sender OK');
  assert.equal(await d.read(), '250 2.1.5 Recipient OK');
  assert.equal(await d.read(), R.data);
  ids.push(queuedReply.exec(await d.read())?.[1]);
  assert.equal(await d.command('QUIT'), '221 2.0.0 Bye');
  await h.relay.acceptor.drain();
  for (const [id, rcpt] of [[ids[0], 'info@contoso.example'], [ids[1], 'sales@contoso.example']] as const) {
    assert.ok(id, 'both messages are accepted');
    assert.deepEqual((await h.decisions.list({ messageId: id })).map((x) => [x.recipient, x.verdict]), [[rcpt, 'inbound']]);
  }
  attempts.push({ vector: 'pipelining', shape: 'smtpsmug', sender: 'a stranger sending in', passed: false });
});

test('smuggling vectors passed: none', () => {
  const vectors = new Set(attempts.map((a) => a.vector));
  const passed = new Set(attempts.filter((a) => a.passed).map((a) => a.vector));
  assert.equal(vectors.size, endings.length + 1);
  assert.equal(attempts.length, endings.length * shapes.length * senders.length + 2, 'every attempt ran to its verdict');
  assert.deepEqual([...passed], []);
  console.log(`smuggling vectors passed: 0 of ${vectors.size} (${attempts.length} attempts: ${endings.length} endings × ${shapes.length} tool shapes × ${senders.length} senders, and pipelining)`);
});
