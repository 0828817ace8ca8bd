/**
 * The open-relay probe matrix, against the live server over loopback: every envelope sender form
 * × every recipient form that tries to reach a second destination, from a stranger, through a
 * trusted PROXY peer claiming other sources, and from another tenant's connector source. Each cell's
 * reply is derived from relay-policy.md §4–§5 by `expectedCell` below, which knows the directory
 * only as the table of accepted domains and connector sources of test-directory.ts, never the code.
 * Two control sources (contoso's own application, directly and through the proxy) must relay
 * where the contract says they may: proof that the matrix can see a relay when there is one.
 *
 * Cells already covered elsewhere: `a%b@contoso.example` from a stranger (smtp-relay.test.ts), the
 * PROXY spoofs done with swaks (smtp-serve.test.ts), certificates (hostile-certificates.test.ts),
 * SRS reflection (docs/security.md §1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { proxyV1, proxyV1Unknown, proxyV2 } from '../support/proxy-header.js';

// --- What the contract is applied to: the directory of test-directory.ts, restated as facts. ---

/** Accepted domains (all Authoritative, none with matchSubDomains) → tenant. */
const acceptedBy: Readonly<Record<string, string>> = {
  'contoso.example': 'contoso',
  'relay.contoso.example': 'contoso',
  'oldco.example': 'oldco',
  'devices.example': 'devices',
  'fabrikam.example': 'fabrikam',
};
/** Sources in an enabled OnPremises connector's senderIPAddresses (§3.2) and the tenant's rule set. */
const onPremisesSource: Readonly<Record<string, { tenant: string; ruleSet: '2023-11' | 'legacy' }>> = {
  '127.0.0.1': { tenant: 'contoso', ruleSet: '2023-11' },
  '::1': { tenant: 'contoso', ruleSet: '2023-11' },
  '127.0.0.2': { tenant: 'oldco', ruleSet: 'legacy' },
  '127.0.0.3': { tenant: 'devices', ruleSet: '2023-11' },
};

// --- The matrix. ---

/** Where a form points, by §5: refused as a smuggling form, a domain (canonical), or an address literal. */
type Target = { kind: 'hygiene' } | { kind: 'domain'; domain: string } | { kind: 'literal' };
const hygiene: Target = { kind: 'hygiene' };
const to = (domain: string): Target => ({ kind: 'domain', domain });
const literal: Target = { kind: 'literal' };

/** RCPT TO forms (the text between the angle brackets) and what §5 says each one is. */
const recipients: ReadonlyArray<{ name: string; rcpt: string; target: Target }> = [
  { name: 'accepted domain (baseline)', rcpt: 'info@contoso.example', target: to('contoso.example') },
  { name: 'foreign', rcpt: 'victim@elsewhere.example', target: to('elsewhere.example') },
  { name: 'percent hack', rcpt: 'victim%elsewhere.example@contoso.example', target: hygiene },
  { name: 'percent hack, foreign domain last', rcpt: 'victim%contoso.example@elsewhere.example', target: hygiene },
  { name: 'bang path', rcpt: 'elsewhere.example!victim@contoso.example', target: hygiene },
  { name: 'bang path without a domain', rcpt: 'elsewhere.example!victim', target: hygiene },
  { name: 'two @', rcpt: 'victim@elsewhere.example@contoso.example', target: hygiene },
  { name: 'unqualified postmaster', rcpt: 'postmaster', target: hygiene },
  { name: 'source route to a foreign mailbox', rcpt: '@contoso.example:victim@elsewhere.example', target: to('elsewhere.example') },
  { name: 'source route of two hops', rcpt: '@contoso.example,@relay.contoso.example:victim@elsewhere.example', target: to('elsewhere.example') },
  { name: 'source route to an accepted mailbox', rcpt: '@elsewhere.example:info@contoso.example', target: to('contoso.example') },
  { name: 'quoted local part with @', rcpt: '"victim@elsewhere.example"@contoso.example', target: hygiene },
  { name: 'quoted local part with %', rcpt: '"victim%elsewhere.example"@contoso.example', target: hygiene },
  { name: 'quoted local part with !', rcpt: '"elsewhere.example!victim"@contoso.example', target: hygiene },
  { name: 'address literal', rcpt: 'victim@[192.0.2.1]', target: literal },
  { name: 'address literal, loopback', rcpt: 'postmaster@[127.0.0.1]', target: literal },
  { name: 'address literal, IPv6', rcpt: 'victim@[IPv6:2001:db8::1]', target: literal },
  { name: 'trailing dot, foreign', rcpt: 'victim@elsewhere.example.', target: to('elsewhere.example') },
  { name: 'trailing dot, accepted', rcpt: 'info@contoso.example.', target: to('contoso.example') },
  { name: 'two trailing dots', rcpt: 'victim@elsewhere.example..', target: hygiene },
  { name: 'upper case, foreign', rcpt: 'VICTIM@ELSEWHERE.EXAMPLE', target: to('elsewhere.example') },
  { name: 'upper case, accepted', rcpt: 'INFO@CONTOSO.EXAMPLE', target: to('contoso.example') },
  { name: 'suffix trick: accepted name inside a label', rcpt: 'x@evilcontoso.example', target: to('evilcontoso.example') },
  { name: 'suffix trick: accepted name as a prefix', rcpt: 'x@contoso.example.evil.example', target: to('contoso.example.evil.example') },
  { name: 'subdomain of an Authoritative domain', rcpt: 'x@mail.contoso.example', target: to('mail.contoso.example') },
  { name: 'IDN fullwidth of a foreign domain', rcpt: 'victim@ｅｌｓｅｗｈｅｒｅ.example', target: to('elsewhere.example') },
  { name: 'IDN fullwidth of the accepted domain', rcpt: 'info@ｃｏｎｔｏｓｏ.example', target: to('contoso.example') },
  { name: 'IDN fullwidth full stop', rcpt: 'info@contoso．example', target: to('contoso.example') },
  { name: 'IDN homoglyph, Greek omicron', rcpt: 'info@c\u03bfntoso.example', target: to('xn--cntoso-i0e.example') },
  { name: 'IDN homoglyph, Cyrillic es and o', rcpt: 'info@\u0441\u043entoso.example', target: to('xn--ntoso-iyeu.example') },
  { name: 'IDN homoglyph in A-label form', rcpt: 'info@xn--cntoso-i0e.example', target: to('xn--cntoso-i0e.example') },
  // §5 "malformed": an IDN with a URL delimiter or a percent escape is no domain (not cut or decoded into one).
  { name: 'IDN with a URL delimiter', rcpt: 'victim@ｅｌｓｅｗｈｅｒｅ.example/.contoso.example', target: hygiene },
  { name: 'IDN with a percent escape', rcpt: 'info@ｃｏｎｔｏｓｏ.example%2eevil.example', target: hygiene },
  // §5: the domain is what follows the last ASCII @; a fullwidth ＠ is part of the local part.
  { name: 'fullwidth @ in the local part', rcpt: 'victim＠elsewhere.example@contoso.example', target: to('contoso.example') },
];

type Sender = { kind: 'null' } | { kind: 'domain'; domain: string } | { kind: 'literal' } | { kind: 'invalid' };

/** MAIL FROM forms; `accepted` is contoso's domain, another tenant's for the other tenants' sources. */
const senders: ReadonlyArray<{ name: string; mailFrom: string; p1: Sender }> = [
  { name: 'null sender', mailFrom: '', p1: { kind: 'null' } },
  { name: 'accepted domain', mailFrom: 'app@contoso.example', p1: { kind: 'domain', domain: 'contoso.example' } },
  { name: 'foreign', mailFrom: 'x@elsewhere.example', p1: { kind: 'domain', domain: 'elsewhere.example' } },
  { name: 'postmaster of the accepted domain', mailFrom: 'postmaster@contoso.example', p1: { kind: 'domain', domain: 'contoso.example' } },
  { name: 'unqualified postmaster', mailFrom: 'postmaster', p1: { kind: 'invalid' } },
  { name: 'case and trailing dot', mailFrom: 'APP@CONTOSO.EXAMPLE.', p1: { kind: 'domain', domain: 'contoso.example' } },
  { name: 'source route to the accepted domain', mailFrom: '@elsewhere.example:app@contoso.example', p1: { kind: 'domain', domain: 'contoso.example' } },
  { name: 'source route to a foreign sender', mailFrom: '@contoso.example:x@elsewhere.example', p1: { kind: 'domain', domain: 'elsewhere.example' } },
  { name: 'address literal', mailFrom: 'postmaster@[127.0.0.1]', p1: { kind: 'literal' } },
];

const R = {
  ok: '250 2.1.5 Recipient OK',
  senderOk: '250 2.1.0 Sender OK',
  invalidSender: '501 5.1.7 Invalid sender address',
  invalidRecipient: '501 5.1.3 Invalid recipient address',
  relayDenied: '550 5.7.64 TenantAttribution; Relay Access Denied',
  literalRefused: '550 5.1.2 Address literal recipients not accepted',
  needMail: '503 5.5.1 Error: need MAIL command',
};

interface Cell {
  /** The reply at RCPT. */
  reply: string;
  /** Accepted for relay to a domain no tenant accepts. */
  relayed: boolean;
  /** Legacy rule set: accepted provisionally, only the header From (1c) can still allow it. */
  pending: boolean;
  /** Still accepted once the header From is known (it is always contoso's here). */
  acceptedAtData: boolean;
}

/** The header From every probe message carries: contoso's, accepted by no other tenant. */
const headerFromDomain = 'contoso.example';

/** relay-policy.md §3–§5 for one cell, from the facts above. */
function expectedCell(sourceIp: string, p1: Sender, rcpt: string, target: Target): Cell {
  const refused = (reply: string): Cell => ({ reply, relayed: false, pending: false, acceptedAtData: false });
  // MAIL FROM itself was refused (501 5.1.7): no transaction. A path that is malformed on its face
  // (not exactly one @ once a source route is dropped) is a syntax error before it is out of order.
  if (p1.kind === 'invalid') return refused(malformedPath(rcpt) ? R.invalidRecipient : R.needMail);
  if (target.kind === 'hygiene') return refused(R.invalidRecipient); // §5
  // §5 as amended for the outside testers' findings: an address-literal recipient is refused while
  // limits.allowAddressLiterals is off (the default, and this harness).
  if (target.kind === 'literal') return refused(R.literalRefused);
  const domain = target.kind === 'domain' ? target.domain : null;
  const owner = domain ? acceptedBy[domain] : undefined;
  const accepted = (relay: boolean): Cell => ({ reply: R.ok, relayed: relay && owner === undefined, pending: false, acceptedAtData: true });
  const source = onPremisesSource[sourceIp];
  if (source) {
    const t = source.tenant;
    if (owner === t) return accepted(false); // §4.1 internal
    // §4.2: the connection matched T's connector by IP (condition 2); no certificate, so 1b alone.
    const p1Accepted = p1.kind === 'domain' && acceptedBy[p1.domain] === t;
    if (p1Accepted) return accepted(true);
    // §4 timing: under legacy only 1c is left; the header From (not T's) then fails it, and the
    // recipient falls to rule 3 or 4.
    if (source.ruleSet === 'legacy') {
      const relayByP2 = acceptedBy[headerFromDomain] === t;
      return { reply: R.ok, relayed: false, pending: true, acceptedAtData: relayByP2 || owner !== undefined };
    }
  }
  // §4.3: inbound for the recipient's tenant (contoso has no Partner connector and allows Direct Send).
  if (owner !== undefined) return accepted(false);
  return refused(R.relayDenied); // §4.4
}

function malformedPath(rcpt: string): boolean {
  // RFC 5321 §4.1.2: a quoted local part is one token, whatever it holds (`"a@b"@c` has one @).
  const mailbox = rcpt.replace(/^@[^:]*:/, '').replace(/^"(?:[^"\\]|\\.)*"/, 'q');
  return mailbox.toLowerCase() !== 'postmaster' && mailbox.split('@').length !== 2;
}

// --- The sources. ---

const PROXY = '127.0.0.9';
let h: Harness;
before(async () => {
  h = await startHarness({
    directory: testDirectoryYaml,
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'v6', host: '::1', port: 0, tls: 'none' },
    ],
    // A dedicated proxy, and ::1, which is also in contoso's connector: the address the proxy
    // speaks for is judged, never the proxy's own.
    proxyTrusted: [`${PROXY}/32`, '::1/128'],
    limits: { maxErrors: 10_000 },
  });
});
after(async () => {
  await h.stop();
});

interface Source {
  name: string;
  /** The address the contract judges (§2): the claimed one behind a trusted proxy. */
  judgedIp: string;
  listener: 'smtp' | 'v6';
  localAddress: string;
  preamble?: Buffer;
  /** A control: a source the contract lets relay. Its cells are not probes of the figure. */
  control?: boolean;
}

const sources: Source[] = [
  { name: 'a stranger (127.0.0.4)', judgedIp: '127.0.0.4', listener: 'smtp', localAddress: '127.0.0.4' },
  { name: "fabrikam's Partner source (127.0.0.7): Partner connectors attribute nothing", judgedIp: '127.0.0.7', listener: 'smtp', localAddress: '127.0.0.7' },
  { name: 'trusted proxy, PROXY v1 claiming a stranger', judgedIp: '127.0.0.4', listener: 'smtp', localAddress: PROXY, preamble: proxyV1('127.0.0.4', '127.0.0.1') },
  { name: 'trusted proxy, PROXY v2 claiming an outside IPv4 address', judgedIp: '192.0.2.10', listener: 'smtp', localAddress: PROXY, preamble: proxyV2({ src: '192.0.2.10', dst: '127.0.0.1' }) },
  { name: 'trusted proxy, PROXY v2 claiming an outside IPv6 address', judgedIp: '2001:db8::10', listener: 'smtp', localAddress: PROXY, preamble: proxyV2({ src: '2001:db8::10', dst: '2001:db8::1' }) },
  { name: 'trusted proxy, PROXY v1 claiming an IPv4-mapped stranger', judgedIp: '127.0.0.4', listener: 'smtp', localAddress: PROXY, preamble: proxyV1('::ffff:127.0.0.4', '::ffff:127.0.0.1') },
  { name: 'trusted proxy, PROXY v1 UNKNOWN (the proxy itself is judged)', judgedIp: PROXY, listener: 'smtp', localAddress: PROXY, preamble: proxyV1Unknown() },
  { name: 'trusted proxy, PROXY v2 LOCAL (the proxy itself is judged)', judgedIp: PROXY, listener: 'smtp', localAddress: PROXY, preamble: proxyV2({ command: 0 }) },
  { name: "trusted proxy inside contoso's connector (::1), claiming a stranger", judgedIp: '127.0.0.4', listener: 'v6', localAddress: '::1', preamble: proxyV1('127.0.0.4', '127.0.0.1') },
  { name: "trusted proxy, PROXY v2 claiming devices' source", judgedIp: '127.0.0.3', listener: 'smtp', localAddress: PROXY, preamble: proxyV2({ src: '127.0.0.3', dst: '127.0.0.1' }) },
  { name: "another tenant's source: devices (127.0.0.3)", judgedIp: '127.0.0.3', listener: 'smtp', localAddress: '127.0.0.3' },
  { name: "another tenant's source: oldco under the legacy rules (127.0.0.2)", judgedIp: '127.0.0.2', listener: 'smtp', localAddress: '127.0.0.2' },
  { name: "control: contoso's application (127.0.0.1)", judgedIp: '127.0.0.1', listener: 'smtp', localAddress: '127.0.0.1', control: true },
  { name: "control: trusted proxy claiming contoso's application", judgedIp: '127.0.0.1', listener: 'smtp', localAddress: PROXY, preamble: proxyV2({ src: '127.0.0.1', dst: '127.0.0.1' }), control: true },
];

async function connect(s: Source): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({
    host: s.listener === 'v6' ? '::1' : '127.0.0.1',
    port: h.port(s.listener),
    localAddress: s.localAddress,
    ...(s.preamble ? { preamble: s.preamble } : {}),
  });
  assert.equal(await c.read(), '220 relay.test ESMTP relaygate', s.name);
  return c;
}

/** Sends a command as UTF-8 (the IDN forms) and returns its reply. */
async function utf8Command(c: RawSmtpClient, line: string): Promise<string> {
  c.write(Buffer.from(`${line}\r\n`, 'utf8'));
  return c.read();
}

interface Probed {
  source: string;
  sender: string;
  recipient: string;
  reply: string;
  expected: Cell;
}
const probed: Probed[] = [];
/** Domains of recipients queued from each source (the proof that nothing was relayed). */
const queuedDomains = new Map<string, string[]>();

for (const s of sources) {
  test(`relay matrix from ${s.name}: every cell gets the reply relay-policy.md gives it`, async () => {
    const mismatches: string[] = [];
    // One session per source (smtp-server holds every greeting back 100 ms), one transaction per sender.
    const c = await connect(s);
    assert.match(await c.command('EHLO probe.example'), /^250-relay\.test/);
    for (const sender of senders) {
      const mail = await utf8Command(c, `MAIL FROM:<${sender.mailFrom}> SMTPUTF8`);
      assert.equal(mail, sender.p1.kind === 'invalid' ? R.invalidSender : R.senderOk, `${s.name} / ${sender.name}`);
      // Pipelined, as an attacker would: the replies come back in order.
      c.write(Buffer.from(recipients.map((r) => `RCPT TO:<${r.rcpt}>\r\n`).join(''), 'utf8'));
      let accepted = 0;
      for (const r of recipients) {
        const reply = await c.read();
        const expected = expectedCell(s.judgedIp, sender.p1, r.rcpt, r.target);
        probed.push({ source: s.name, sender: sender.name, recipient: r.name, reply, expected });
        if (reply !== expected.reply) mismatches.push(`${sender.name} × ${r.name} <${r.rcpt}>: got ${reply}, expected ${expected.reply}`);
        if (reply === R.ok) accepted++;
      }
      if (accepted > 0) {
        // Complete the message, so that what would be relayed is in the queue to be looked at.
        assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
        c.write(`From: <app@${headerFromDomain}>\r\nSubject: relay probe\r\n\r\nprobe\r\n.\r\n`);
        const rows = recipients.map((r) => expectedCell(s.judgedIp, sender.p1, r.rcpt, r.target));
        const settled = rows.some((x) => x.acceptedAtData);
        // §4 timing: when no recipient remains once the header From is known, the DATA gets 5.7.64
        // and nothing is queued.
        const end = await c.read();
        if (settled) assert.match(end, /^250 2\.0\.0 OK <[0-9a-z]{20}>$/, `${s.name} / ${sender.name}`);
        else assert.equal(end, R.relayDenied, `${s.name} / ${sender.name}`);
      }
      assert.equal(await c.command('RSET'), '250 2.0.0 Flushed');
    }
    assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
    await c.closed();
    assert.deepEqual(mismatches, [], `${mismatches.length} cells differ from the contract`);
    const rows = h.db
      .prepare("SELECT r.domain FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.client_ip = ? AND r.state = 'queued'")
      .all(s.judgedIp) as Array<{ domain: string }>;
    queuedDomains.set(s.judgedIp, rows.map((r) => r.domain));
  });
}

test('nothing was relayed for a stranger; the controls relayed where the contract lets them', () => {
  const strangers = probed.filter((p) => !sources.find((s) => s.name === p.source)?.control);
  // A pending cell (legacy rules) is 250 at RCPT and decided after the headers: the queue shows it.
  const relayed = strangers.filter((p) => p.reply === R.ok && !p.expected.pending && isForeign(p));
  assert.deepEqual(relayed.map((p) => `${p.source} / ${p.sender} / ${p.recipient}`), []);
  for (const s of sources.filter((x) => !x.control)) {
    const foreign = (queuedDomains.get(s.judgedIp) ?? []).filter((d) => acceptedBy[d] === undefined);
    assert.deepEqual(foreign, [], `queued for a domain no tenant accepts, from ${s.name}`);
  }
  const controls = probed.filter((p) => sources.find((s) => s.name === p.source)?.control);
  const controlRelays = controls.filter((p) => p.expected.relayed && p.reply === R.ok).length;
  assert.ok(controlRelays > 0, 'the controls relayed');
  assert.ok((queuedDomains.get('127.0.0.1') ?? []).includes('elsewhere.example'), 'a control relay reached the queue');
  console.log(`relayed for strangers: 0 of ${strangers.length} probes (${sources.filter((s) => !s.control).length} sources × ${senders.length} senders × ${recipients.length} recipients); controls relayed ${controlRelays} of ${controls.length}`);
});

function isForeign(p: Probed): boolean {
  const r = recipients.find((x) => x.name === p.recipient)!;
  return r.target.kind !== 'domain' || acceptedBy[r.target.domain] === undefined;
}
