/**
 * The bytes of an envelope address: invalid UTF-8 is refused (it used to be decoded to U+FFFD and
 * forwarded with SMTPUTF8), and a non-ASCII address needs the SMTPUTF8 MAIL parameter (RFC 6531).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { createTestPki, type TestPki } from '../support/certificates.js';

let h: Harness;
let pki: TestPki;
let tlsHarness: Harness;
before(async () => {
  h = await startHarness({ directory: testDirectoryYaml });
  pki = createTestPki();
  tlsHarness = await startHarness({ directory: testDirectoryYaml, pki });
});
after(async () => {
  await h.stop();
  await tlsHarness.stop();
  pki.cleanup();
});

async function client(): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp') });
  await c.read();
  await c.command('EHLO app.contoso.example');
  return c;
}

/** Sends a command line given as raw bytes (CRLF added) and returns its reply. */
async function bytes(c: RawSmtpClient, line: Buffer): Promise<string> {
  c.write(Buffer.concat([line, Buffer.from('\r\n')]));
  return c.read();
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
/** A command with one invalid UTF-8 byte (a lone 0xF6, Latin-1 "ö") where `\xf6` stands. */
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

const queued = async (h: Harness): Promise<number> => (await h.queued()).length;

test('invalid UTF-8 in the MAIL FROM local part is refused 501 5.1.7, with or without SMTPUTF8', async () => {
  const c = await client();
  assert.equal(await bytes(c, latin1('MAIL FROM:<j\xf6rg@contoso.example> SMTPUTF8')), '501 5.1.7 Invalid sender address');
  assert.equal(await bytes(c, latin1('MAIL FROM:<j\xf6rg@contoso.example>')), '501 5.1.7 Invalid sender address');
  // A truncated sequence (the first byte of "ö" without its continuation) and an overlong "/" too.
  assert.equal(await bytes(c, Buffer.concat([utf8('MAIL FROM:<j'), Buffer.from([0xc3]), utf8('rg@contoso.example> SMTPUTF8')])), '501 5.1.7 Invalid sender address');
  assert.equal(await bytes(c, Buffer.concat([utf8('MAIL FROM:<a'), Buffer.from([0xc0, 0xaf]), utf8('b@contoso.example> SMTPUTF8')])), '501 5.1.7 Invalid sender address');
  // The session goes on: a valid sender is accepted after the refusals.
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  c.close();
});

test('invalid UTF-8 in a recipient (local part or domain) is refused 501 5.1.3', async () => {
  const before = await queued(h);
  const c = await client();
  assert.equal(await bytes(c, utf8('MAIL FROM:<app@contoso.example> SMTPUTF8')), '250 2.1.0 Sender OK');
  assert.equal(await bytes(c, latin1('RCPT TO:<j\xf6rg@elsewhere.example>')), '501 5.1.3 Invalid recipient address');
  assert.equal(await bytes(c, latin1('RCPT TO:<bob@b\xfccher.example>')), '501 5.1.3 Invalid recipient address');
  assert.equal(await c.command('DATA'), '503 5.5.1 Error: need RCPT command');
  c.close();
  assert.equal(await queued(h), before, 'nothing was queued');
});

test('a non-ASCII sender without the SMTPUTF8 parameter is refused 553 5.6.7; with it, it is accepted', async () => {
  const c = await client();
  assert.equal(await bytes(c, utf8('MAIL FROM:<jörg@contoso.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  assert.equal(await bytes(c, utf8('MAIL FROM:<app@bücher.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  assert.equal(await bytes(c, utf8('MAIL FROM:<jörg@contoso.example> SMTPUTF8')), '250 2.1.0 Sender OK');
  c.close();
});

test('SMTPUTF8 of a refused MAIL FROM does not carry over to the next one', async () => {
  const c = await client();
  assert.equal(await bytes(c, latin1('MAIL FROM:<j\xf6rg@contoso.example> SMTPUTF8')), '501 5.1.7 Invalid sender address');
  assert.equal(await bytes(c, utf8('MAIL FROM:<jörg@contoso.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await bytes(c, utf8('RCPT TO:<jörg@elsewhere.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  c.close();
});

test('a non-ASCII recipient in a transaction without SMTPUTF8 is refused 553 5.6.7', async () => {
  const c = await client();
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await bytes(c, utf8('RCPT TO:<jörg@elsewhere.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  assert.equal(await bytes(c, utf8('RCPT TO:<bob@bücher.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  assert.equal(await c.command('RSET'), '250 2.0.0 Flushed');
  assert.equal(await bytes(c, utf8('MAIL FROM:<app@contoso.example> SMTPUTF8')), '250 2.1.0 Sender OK');
  assert.equal(await bytes(c, utf8('RCPT TO:<jörg@elsewhere.example>')), '250 2.1.5 Recipient OK');
  c.close();
});

test('an A-label domain is ASCII: accepted without SMTPUTF8 (smtp-server shows it decoded, the wire bytes decide)', async () => {
  const c = await client();
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<bob@xn--bcher-kva.example>'), '250 2.1.5 Recipient OK');
  c.close();
});

test('after STARTTLS the bytes of the encrypted session are judged the same way', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: tlsHarness.port('smtp') });
  await c.read();
  await c.command('EHLO app.contoso.example');
  assert.match(await c.command('STARTTLS'), /^220 /);
  await c.upgrade();
  await c.command('EHLO app.contoso.example');
  assert.equal(await bytes(c, latin1('MAIL FROM:<j\xf6rg@contoso.example> SMTPUTF8')), '501 5.1.7 Invalid sender address');
  assert.equal(await bytes(c, utf8('MAIL FROM:<jörg@contoso.example>')), '553 5.6.7 Non-ASCII address not permitted without SMTPUTF8');
  assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await bytes(c, latin1('RCPT TO:<bob@b\xfccher.example>')), '501 5.1.3 Invalid recipient address');
  c.close();
});
