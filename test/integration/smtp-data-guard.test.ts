/**
 * The DATA guard against SMTP smuggling, attacked over loopback the way a client controls TCP
 * segmentation: TCP_NODELAY and a pause between writes, so each piece reaches the server as its own
 * segment. smtp-server holds back the last bytes of every segment, so the guard's chunk boundary
 * sits a few bytes before the segment's end; the attacks below put the suspicious CR at every
 * distance from the end of a segment so one of them lands exactly on that boundary.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawSmtpClient } from '../support/smtp-client.js';
import { bodyText, startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';

let h: Harness;
before(async () => {
  h = await startHarness({ directory: testDirectoryYaml, listeners: [{ name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' }] });
});
after(async () => {
  await h.stop();
});

const queued = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/;
const bareLineEnding = '550 5.6.11 Bare CR or LF not allowed';
const nulCharacter = '550 5.6.0 NUL characters not allowed';
/** Far more than the bytes smtp-server keeps back from a segment. */
const distances = [0, 1, 2, 3, 4, 5, 6, 8];

async function messagesFrom(ip: string): Promise<number> {
  return (await h.queued()).filter((e) => e.message.clientIp === ip).length;
}

function spoolFiles(): number {
  let n = 0;
  if (!existsSync(join(h.dataDir, 'spool'))) return 0;
  for (const d of readdirSync(join(h.dataDir, 'spool'))) n += readdirSync(join(h.dataDir, 'spool', d)).length;
  return n;
}

/** Opens a transaction from `ip` and sends the DATA in `segments`, one TCP segment each. */
async function sendInSegments(ip: string, mailFrom: string, segments: string[]): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: ip, noDelay: true });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO client.example'), /^250-/);
  assert.equal(await c.command(`MAIL FROM:<${mailFrom}>`), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<office@elsewhere.example>'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  for (const [i, s] of segments.entries()) {
    if (i > 0) await sleep(40);
    c.write(s);
  }
  return c;
}

/** Cuts `text` into segments, each ending `distance` bytes after a marked position (`|`). */
function segmented(text: string, distance: number): string[] {
  const pieces = text.split('|');
  const plain = pieces.join('');
  const cuts: number[] = [];
  let at = 0;
  for (const p of pieces.slice(0, -1)) cuts.push(Math.min((at += p.length) + distance, plain.length));
  return [0, ...cuts].map((from, i) => plain.slice(from, cuts[i] ?? plain.length)).filter((s) => s.length > 0);
}

// A bare CR after Subject: a next hop turning it into CRLF ends the header block there, so the From
// relaygate would have read as P2 lands in the body.
const headerAttack = 'Subject: hello\r|\r\nFrom: ceo@contoso.example\r\n\r\nbody\r\n.\r\n';
const bodyAttack = 'Subject: hello\r\n\r\nline one\r|\r\nline two\r\n.\r\n';

for (const [name, message] of [['header', headerAttack], ['body', bodyAttack]] as const) {
  test(`a bare CR in the ${name} at the end of a TCP segment, CRLF in the next: 550 5.6.11 and close, at every segment cut`, async () => {
    const files = spoolFiles();
    const before = await messagesFrom('127.0.0.1');
    for (const d of distances) {
      const c = await sendInSegments('127.0.0.1', 'app@contoso.example', segmented(message, d));
      assert.equal(await c.read(), bareLineEnding, `CR ${d} bytes before the segment end`);
      assert.equal(await c.closed(), '');
    }
    assert.equal(await messagesFrom('127.0.0.1'), before);
    assert.equal(spoolFiles(), files);
  });
}

for (const ending of ['\r\n\x00.\r\n', '\r\n.\x00\r\n']) {
  test(`NUL smuggling ${JSON.stringify(ending)}: ${nulCharacter} and close, nothing queued`, async () => {
    const files = spoolFiles();
    const before = await messagesFrom('127.0.0.1');
    const smuggled = 'MAIL FROM:<app@contoso.example>\r\nRCPT TO:<victim@elsewhere.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n';
    for (const segments of [[`Subject: first\r\n\r\nbody${ending}${smuggled}`], ['Subject: first\r\n\r\nbody\r\n', ending.slice(2), smuggled]]) {
      const c = await sendInSegments('127.0.0.1', 'app@contoso.example', segments);
      assert.equal(await c.read(), nulCharacter, JSON.stringify(segments));
      assert.equal(await c.closed(), '');
    }
    assert.equal(await messagesFrom('127.0.0.1'), before);
    assert.equal(spoolFiles(), files);
  });
}

test('allowBareLineEndings: normalize accepts the same segmented attacks; the spool has CRLF only, no NUL, and the header From read is the one forwarded', async () => {
  const message = 'Subject: scan\r|\r\nFrom: printer@devices.example\r\n\r\npage 1\r\n\x00.\r\nafter\x00\r|\r\n.\r\n';
  for (const d of distances) {
    const c = await sendInSegments('127.0.0.3', 'printer@devices.example', segmented(message, d));
    const id = queued.exec(await c.read())?.[1];
    assert.ok(id, `CR ${d} bytes before the segment end`);
    assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
    const row = (await h.entry(id))?.message;
    assert.ok(row, 'the message is queued');
    // The bare CR became CRLF, so the header block ends after Subject and From is body text, both for
    // the stamping (no header From) and in the bytes forwarded.
    assert.equal(row.headerFrom, null);
    const text = await bodyText(h.bodies, id);
    assert.ok(text !== null, 'the body is stored');
    assert.ok(text.endsWith('\r\nSubject: scan\r\n\r\nFrom: printer@devices.example\r\n\r\npage 1\r\n.\r\nafter\r\n\r\n'), JSON.stringify(text));
    assert.doesNotMatch(text, /\x00/);
    assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/);
  }
});
