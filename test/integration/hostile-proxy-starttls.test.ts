/**
 * PROXY protocol spoofing and STARTTLS command injection against the live server. 127.0.0.9 is the
 * trusted proxy; 127.0.0.4 is a stranger. A PROXY header is honoured only from a trusted peer, and
 * from it one must come, well formed, within the handshake time; every malformed one ends the
 * connection with the exact reply and nothing after it is answered.
 *
 * Covered elsewhere and not repeated: PROXY v1 and v2 from an untrusted peer, a trusted peer with
 * no header, PROXY v2 before implicit TLS (smtp-serve.test.ts, with swaks); the PROXY claims of the
 * open-relay matrix (hostile-open-relay.test.ts); the proxy's clients and the connection reserve
 * (smtp-slot-lockout.test.ts); STARTTLS followed by MAIL FROM and RCPT TO in one segment, STARTTLS
 * on an implicit-TLS listener, a failed handshake freeing its slot (smtp-tls.test.ts); the PROXY
 * parser's unit and property tests (src/smtp/proxy-protocol*.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { proxyV1, proxyV2, proxyV2Signature } from '../support/proxy-header.js';
import { waitFor } from '../support/wait-for.js';

const PROXY = '127.0.0.9';
const GREETING = '220 relay.test ESMTP relaygate';
const BAD_HEADER = '421 4.7.0 Invalid PROXY protocol header';
const NOT_ACCEPTED = '421 4.7.0 PROXY protocol not accepted from this address';
const INJECTION = '421 4.7.0 Commands sent before the TLS handshake completed, closing connection';
/** The handshake time (PROXY header, implicit TLS) is the command timeout, at most 30 s. */
const HANDSHAKE_MS = 1500;

let h: Harness;
let pki: TestPki;
before(async () => {
  pki = createTestPki();
  h = await startHarness({
    directory: testDirectoryYaml,
    pki,
    proxyTrusted: [`${PROXY}/32`],
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'starttls' },
      { name: 'plain', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'smtps', host: '127.0.0.1', port: 0, tls: 'implicit' },
    ],
    limits: { commandTimeout: HANDSHAKE_MS },
  });
});
after(async () => {
  await h?.stop();
  pki?.cleanup();
});

function open(listener: string, localAddress: string, preamble?: Buffer): Promise<RawSmtpClient> {
  return RawSmtpClient.connect({ host: '127.0.0.1', port: h.port(listener), localAddress, noDelay: true, ...(preamble ? { preamble } : {}) });
}

const v1 = (line: string): Buffer => Buffer.from(line, 'latin1');
const after4 = { src: '127.0.0.4', dst: '127.0.0.1' };

/** Malformed headers from the trusted proxy, each followed by a command that must go unanswered. */
const malformed: ReadonlyArray<[string, Buffer]> = [
  ['v1 unknown family', v1('PROXY TCP5 127.0.0.4 127.0.0.1 40000 25\r\n')],
  ['v1 in lower case', v1('proxy TCP4 127.0.0.4 127.0.0.1 40000 25\r\n')],
  ['v1 TCP4 with IPv6 addresses', v1('PROXY TCP4 ::1 ::1 40000 25\r\n')],
  ['v1 TCP6 with IPv4 addresses', v1('PROXY TCP6 127.0.0.4 127.0.0.1 40000 25\r\n')],
  ['v1 octet over 255', v1('PROXY TCP4 127.0.0.256 127.0.0.1 40000 25\r\n')],
  ['v1 leading zero in an octet', v1('PROXY TCP4 127.0.0.04 127.0.0.1 40000 25\r\n')],
  ['v1 port over 65535', v1('PROXY TCP4 127.0.0.4 127.0.0.1 65536 25\r\n')],
  ['v1 negative port', v1('PROXY TCP4 127.0.0.4 127.0.0.1 -1 25\r\n')],
  ['v1 missing the ports', v1('PROXY TCP4 127.0.0.4 127.0.0.1\r\n')],
  ['v1 an extra field', v1('PROXY TCP4 127.0.0.4 127.0.0.1 40000 25 127.0.0.1\r\n')],
  ['v1 two spaces', v1('PROXY TCP4 127.0.0.4  127.0.0.1 40000 25\r\n')],
  ['v1 ended by LF alone', v1('PROXY TCP4 127.0.0.4 127.0.0.1 40000 25\n')],
  ['v1 with a NUL', v1('PROXY TCP4 127.0.0.4\x00 127.0.0.1 40000 25\r\n')],
  ['v1 over 107 bytes', v1(`PROXY TCP6 ${'f'.repeat(120)}\r\n`)],
  ['v2 version 3', proxyV2({ ...after4, versionCommand: 0x31 })],
  ['v2 unknown command', proxyV2({ ...after4, versionCommand: 0x22 })],
  ['v2 length over 2048', proxyV2({ ...after4, length: 2049 })],
  ['v2 AF_INET without an address block', proxyV2({ familyTransport: 0x11 })],
  ['v2 AF_INET6 with an IPv4-sized block', proxyV2({ ...after4, familyTransport: 0x21 })],
  ['v2 over UDP', proxyV2({ ...after4, familyTransport: 0x12 })],
  ['v2 AF_UNIX', proxyV2({ ...after4, familyTransport: 0x31 })],
  ['v2 signature broken after 4 bytes', Buffer.concat([proxyV2Signature.subarray(0, 4), Buffer.from('PROXY TCP4 127.0.0.4')])],
];

test('malformed PROXY headers from the trusted proxy: the exact reply, the connection closed, nothing after the header answered', async () => {
  const results = await Promise.all(
    malformed.map(async ([name, header]) => {
      const c = await open('plain', PROXY, Buffer.concat([header, Buffer.from('EHLO after.example\r\n')]));
      const reply = await c.read().catch((err: Error) => err.message);
      return `${name}: ${reply} ${JSON.stringify(await c.closed())}`;
    }),
  );
  assert.deepEqual(results, malformed.map(([name]) => `${name}: ${BAD_HEADER} ""`));
});

test('a trusted proxy that goes silent, drips its header or hangs up mid-header is cut at the handshake time', async () => {
  const silent = await open('plain', PROXY);
  // One byte every 100 ms: the whole header would take 4 s; the time allowed does not restart.
  const dripped = await open('plain', PROXY);
  const header = proxyV1('127.0.0.1', '127.0.0.1');
  let sent = 0;
  const timer = setInterval(() => {
    if (dripped.isClosed || sent >= header.length) return clearInterval(timer);
    dripped.write(header.subarray(sent, ++sent));
  }, 100);
  try {
    assert.equal(await silent.read(), BAD_HEADER);
    assert.equal(await dripped.read(), BAD_HEADER);
    assert.ok(sent < header.length, `cut after ${sent} of ${header.length} bytes`);
  } finally {
    clearInterval(timer);
  }
  const cut = await open('plain', PROXY, v1('PROXY TCP4 127.0'));
  await sleep(50);
  cut.close();
  await waitFor(() => h.relay.server.openConnections === 0, { message: () => `every slot freed (${h.relay.server.openConnections} open)` });
});

test('a bad header before implicit TLS: the connection is dropped without a byte', async () => {
  const c = await open('smtps', PROXY, v1('PROXY TCP9 127.0.0.4 127.0.0.1 40000 25\r\n'));
  assert.equal(await c.closed(), '');
});

test('well-formed headers the specification allows are honoured: TLVs, UNKNOWN with addresses, several segments', async () => {
  const relayFrom = async (c: RawSmtpClient): Promise<string> => {
    assert.equal(await c.read(), GREETING);
    await c.command('EHLO client.example');
    await c.command('MAIL FROM:<app@contoso.example>');
    const reply = await c.command('RCPT TO:<someone@elsewhere.example>');
    c.close();
    return reply;
  };
  const tlvs = [{ type: 0x02, value: Buffer.from('relay.test') }, { type: 0x04, value: Buffer.alloc(8) }];
  assert.equal(await relayFrom(await open('plain', PROXY, proxyV2({ src: '127.0.0.1', dst: '127.0.0.1', tlvs }))), '250 2.1.5 Recipient OK');
  assert.equal(await relayFrom(await open('plain', PROXY, proxyV2({ ...after4, tlvs }))), '550 5.7.64 TenantAttribution; Relay Access Denied');
  // "PROXY UNKNOWN" may carry addresses; the receiver ignores them and uses the proxy's own.
  assert.equal(await relayFrom(await open('plain', PROXY, v1('PROXY UNKNOWN 127.0.0.1 127.0.0.1 40000 25\r\n'))), '550 5.7.64 TenantAttribution; Relay Access Denied');
  const split = await open('plain', PROXY);
  const header = proxyV2({ src: '127.0.0.1', dst: '127.0.0.1' });
  for (const [from, to] of [[0, 5], [5, 14], [14, header.length]] as const) {
    split.write(header.subarray(from, to));
    await sleep(30);
  }
  assert.equal(await relayFrom(split), '250 2.1.5 Recipient OK');
});

test('an IPv4-mapped IPv6 client address from the proxy is that IPv4 address, in whatever form the header writes it', async () => {
  // Two clients in two /24s, written as v2 AF_INET6 (binary) and as v1 TCP6 in hex: each is judged,
  // counted (per /24) and recorded as its IPv4 address.
  const held = await Promise.all(
    [proxyV2({ src: '::ffff:192.0.2.10', dst: '::ffff:127.0.0.1' }), v1('PROXY TCP6 ::FFFF:C633:640A ::ffff:7f00:1 40000 25\r\n')].map(async (header) => {
      const c = await open('plain', PROXY, header);
      assert.equal(await c.read(), GREETING);
      return c;
    }),
  );
  assert.equal(h.relay.server.tracked.networks, 2, 'one network per /24');
  const [first, second] = held as [RawSmtpClient, RawSmtpClient];
  await first.command('EHLO mapped.example');
  await first.command('MAIL FROM:<x@stranger.example>');
  assert.equal(await first.command('RCPT TO:<info@contoso.example>'), '250 2.1.5 Recipient OK');
  await first.command('DATA');
  first.write('Subject: mapped\r\n\r\nx\r\n.\r\n');
  const id = /^250 2\.0\.0 OK <(\w{20})>$/.exec(await first.read())?.[1];
  assert.ok(id);
  assert.equal((await h.entry(id))?.message.clientIp, '192.0.2.10');
  for (const c of held) c.close();
  second.close();
});

test('the client behind the proxy cannot claim an address of its own', async () => {
  // A second header right behind the proxy's: refused as from any untrusted peer.
  const second = await open('plain', PROXY, Buffer.concat([proxyV1('127.0.0.4', '127.0.0.1'), proxyV1('127.0.0.1', '127.0.0.1')]));
  assert.equal(await second.read(), NOT_ACCEPTED);
  assert.equal(await second.closed(), '');
  // A header later in the session is an unknown command, and the stranger stays a stranger.
  const later = await open('plain', PROXY, proxyV1('127.0.0.4', '127.0.0.1'));
  assert.equal(await later.read(), GREETING);
  await later.command('EHLO client.example');
  assert.equal(await later.command('PROXY TCP4 127.0.0.1 127.0.0.1 40000 25'), '500 5.5.2 Error: command not recognized');
  await later.command('MAIL FROM:<app@contoso.example>');
  assert.equal(await later.command('RCPT TO:<someone@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  later.close();
  // Commands before the greeting (pipelined behind the header) are refused, as from anyone.
  const early = await open('plain', PROXY, Buffer.concat([proxyV1('127.0.0.1', '127.0.0.1'), Buffer.from('EHLO early.example\r\n')]));
  assert.equal(await early.read(), '421 relay.test You talk too soon');
});

test('an untrusted peer: a PROXY header cut before its sixth byte, or sent mid-session, is an unknown command', async () => {
  const c = await open('plain', '127.0.0.4');
  assert.equal(await c.read(), GREETING);
  c.write('PROX');
  await sleep(50);
  c.write('Y TCP4 127.0.0.1 127.0.0.1 40000 25\r\n');
  assert.equal(await c.read(), '500 5.5.2 Error: command not recognized');
  await c.command('EHLO stranger.example');
  await c.command('MAIL FROM:<app@contoso.example>');
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  c.close();
  // Before implicit TLS the header is a broken ClientHello: the handshake fails and nothing is answered.
  const t = await open('smtps', '127.0.0.4', proxyV1('127.0.0.1', '127.0.0.1'));
  assert.equal(await t.closed(), '');
});

/** STARTTLS on the starttls listener from `ip` (optionally behind the proxy), after EHLO. */
async function beforeStartTls(ip = '127.0.0.4', preamble?: Buffer): Promise<RawSmtpClient> {
  const c = await open('smtp', ip, preamble);
  assert.equal(await c.read(), GREETING);
  assert.match(await c.command('EHLO client.example'), /\n250-STARTTLS\n/);
  return c;
}

const injections: ReadonlyArray<[string, string]> = [
  ['lower-case starttls and RSET', 'starttls\r\nRSET\r\n'],
  ['an empty line', 'STARTTLS\r\n\r\n'],
  ['a partial command without its line end', 'STARTTLS\r\nMAIL FROM:<x@contoso.example>'],
  ['STARTTLS with a trailing space, then EHLO', 'STARTTLS \r\nEHLO injected.example\r\n'],
];

for (const [name, bytes] of injections) {
  test(`STARTTLS injection, ${name}: the session is refused once TLS is up`, async () => {
    const c = await beforeStartTls();
    c.write(bytes);
    assert.equal(await c.read(), '220 2.0.0 Ready to start TLS');
    await c.upgrade({});
    assert.equal(await c.read(), INJECTION);
    assert.equal(await c.closed(), '');
  });
}

test('STARTTLS injection behind the trusted proxy is refused the same way', async () => {
  const c = await beforeStartTls(PROXY, proxyV1('127.0.0.1', '127.0.0.1'));
  c.write('STARTTLS\r\nMAIL FROM:<app@contoso.example>\r\nRCPT TO:<victim@elsewhere.example>\r\n');
  assert.equal(await c.read(), '220 2.0.0 Ready to start TLS');
  await c.upgrade({});
  assert.equal(await c.read(), INJECTION);
  assert.equal(await c.closed(), '');
});

test('plaintext after the 220 of STARTTLS goes into the handshake, which fails: nothing is run and the slot is freed', async () => {
  const c = await beforeStartTls();
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  c.write('MAIL FROM:<app@contoso.example>\r\nRCPT TO:<victim@elsewhere.example>\r\n');
  assert.equal(await c.closed(), '');
  await waitFor(() => h.relay.server.openConnections === 0, { message: () => `every slot freed (${h.relay.server.openConnections} open)` });
});

test('STARTTLS resets the session (RFC 3207 §4.2) and cannot be repeated or given a parameter', async () => {
  const c = await beforeStartTls('127.0.0.1');
  assert.equal(await c.command('STARTTLS now'), '501 5.5.4 Error: syntax: STARTTLS');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade({});
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '503 5.5.1 Error: send HELO/EHLO first');
  assert.doesNotMatch(await c.command('EHLO client.example'), /STARTTLS/);
  assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '503 5.5.1 Error: need MAIL command');
  assert.equal(await c.command('STARTTLS'), '503 5.5.1 Error: TLS already active');
  c.close();
  const plain = await open('plain', '127.0.0.1');
  assert.equal(await plain.read(), GREETING);
  assert.doesNotMatch(await plain.command('EHLO client.example'), /STARTTLS/);
  assert.equal(await plain.command('STARTTLS'), '500 5.5.2 Error: command not recognized');
  plain.close();
});
