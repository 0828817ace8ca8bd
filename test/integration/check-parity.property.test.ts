/**
 * The same facts give the same decision in `relaygate check` and live: a bounded sample of
 * generated transactions (source, envelope sender, recipients in every form the hostile tests use,
 * header From), each evaluated by `check --json` and sent to the real server over loopback, DATA
 * included, so that the legacy rule set's provisional recipients are compared by their final fate
 * (check decides with the header From, the session after it). The long run is `npm run fuzz`.
 * Hand-picked cases are in smtp-check-parity.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { runRelaygate } from '../support/relaygate-process.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { fuzzParameters } from '../support/fuzz.js';

let h: Harness;
let dir: string;
before(async () => {
  h = await startHarness({
    directory: testDirectoryYaml,
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'v6', host: '::1', port: 0, tls: 'none' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'relaygate-parity-fuzz-'));
  writeFileSync(join(dir, 'tenants.yaml'), testDirectoryYaml);
});
after(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

const localParts = ['u', 'info', 'U.S', '"john doe"', '"a@b"', 'a%b', 'x!y', 'a\x01b', 'a\u200bb', 'jörg', 'victim＠elsewhere.example', 'postmaster'];
const domains = ['contoso.example', 'CONTOSO.EXAMPLE.', 'relay.contoso.example', 'mail.contoso.example', 'evilcontoso.example', 'ｃｏｎｔｏｓｏ.example', 'c\u03bfntoso.example', 'fabrikam.example', 'oldco.example', 'devices.example', 'elsewhere.example', '[192.0.2.1]', '[IPv6:2001:db8::1]', 'con\u200btoso.example', 'contoso.example..'];
const address = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...localParts), fc.constantFrom(...domains)).map(([l, d]) => `${l}@${d}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...domains), fc.constantFrom(...localParts), fc.constantFrom(...domains)).map(([r, l, d]) => `@${r}:${l}@${d}`) },
  { weight: 1, arbitrary: fc.constantFrom('postmaster', 'elsewhere.example!victim', 'a@b@c', '') },
);
const transaction = fc.record({
  ip: fc.constantFrom('127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.7', '::1'),
  mailFrom: address,
  recipients: fc.array(address.filter((a) => a !== ''), { minLength: 1, maxLength: 5 }),
  headerFrom: fc.constantFrom('u@contoso.example', 'u@oldco.example', 'u@devices.example', 'u@elsewhere.example', null),
});

const OK = '250 2.1.5 Recipient OK';
/** The fate of a recipient the live server accepted at RCPT, when DATA then refused the whole message. */
const REFUSED_AT_DATA = 'refused at DATA';

/**
 * The live session: each recipient's reply at RCPT, and for the accepted ones their fate once the
 * message is in (queued: 250; refused after the header From: the reply stored for it), by address.
 */
async function live(ip: string, mailFrom: string, recipients: string[], headerFrom: string | null): Promise<{ mail: string; rcpt: string[]; final: Map<string, string> | typeof REFUSED_AT_DATA | null }> {
  const c = await RawSmtpClient.connect({ host: ip === '::1' ? '::1' : '127.0.0.1', port: h.port(ip === '::1' ? 'v6' : 'smtp'), localAddress: ip });
  try {
    assert.match(await c.read(), /^220 /);
    await c.command('EHLO parity.example');
    const send = async (line: string) => {
      c.write(Buffer.from(`${line}\r\n`, 'utf8'));
      return c.read();
    };
    // SMTPUTF8: check knows no such parameter, so the live side always declares it.
    const mail = await send(`MAIL FROM:<${mailFrom}> SMTPUTF8`);
    const rcpt: string[] = [];
    if (!mail.startsWith('250')) return { mail, rcpt, final: null };
    for (const r of recipients) rcpt.push(await send(`RCPT TO:<${r}>`));
    if (!rcpt.includes(OK)) return { mail, rcpt, final: null };
    assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    c.write(Buffer.from(`${headerFrom ? `From: <${headerFrom}>\r\n` : ''}Subject: parity\r\n\r\nx\r\n.\r\n`, 'utf8'));
    const end = await c.read();
    const id = /^250 2\.0\.0 OK <(\w{20})>$/.exec(end)?.[1];
    if (!id) {
      // relay-policy.md §4 timing: no recipient left after the header From → 5.7.64 for the DATA.
      assert.equal(end, '550 5.7.64 TenantAttribution; Relay Access Denied');
      return { mail, rcpt, final: REFUSED_AT_DATA };
    }
    const entry = await h.entry(id);
    assert.ok(entry);
    return { mail, rcpt, final: new Map(entry.recipients.map((r) => [r.address.toLowerCase(), r.state === 'queued' ? OK : (r.lastReply ?? '')])) };
  } finally {
    c.close();
  }
}

let runs = 0;
test('a sample of generated transactions: check and the live server give every recipient the same reply', async () => {
  await fc.assert(
    fc.asyncProperty(transaction, async ({ ip, mailFrom, recipients, headerFrom }) => {
      const file = join(dir, `t${runs++}.yaml`);
      writeFileSync(file, `directory: tenants.yaml\nconnection: { ip: ${JSON.stringify(ip)} }\nmailFrom: ${JSON.stringify(mailFrom)}\nheaderFrom: ${JSON.stringify(headerFrom)}\nrecipients: ${JSON.stringify(recipients)}\n`);
      const checked = await runRelaygate(['check', '--json', file], dir);
      assert.ok(checked.stdout, checked.stderr);
      const decided = (JSON.parse(checked.stdout) as { recipients: Array<{ address: string; reply: string }> }).recipients;
      const got = await live(ip, mailFrom, recipients, headerFrom);
      const facts = JSON.stringify({ ip, mailFrom, recipients, headerFrom });
      // A refusal at MAIL FROM is what check gives every recipient.
      if (!got.mail.startsWith('250')) return assert.deepEqual(decided.map((d) => d.reply), recipients.map(() => got.mail), facts);
      const fates = got.rcpt.map((reply, i) => {
        if (reply !== OK || got.final === null) return reply;
        if (got.final === REFUSED_AT_DATA) return REFUSED_AT_DATA;
        return got.final.get(decided[i]!.address.toLowerCase()) ?? `not queued: ${decided[i]!.address}`;
      });
      const expected = decided.map((d, i) => (fates[i] === REFUSED_AT_DATA && !d.reply.startsWith('250') ? REFUSED_AT_DATA : d.reply));
      assert.deepEqual(fates, expected, facts);
    }),
    fuzzParameters(15, { live: true }),
  );
  console.log(`check/live parity: ${runs} generated transactions, every reply the same`);
});
