/**
 * The policy engine's invariants (relay-policy.md §2–§5) over generated directories and facts. The
 * checks below are written from the contract with their own matching (ipaddr.js for ranges, string
 * rules for certificate names), not with the engine's helpers, and each states a necessary
 * condition, so they hold whatever tie-break or rule order the engine takes:
 * - no relay without an enabled OnPremises connector of the tenant matching the connection;
 * - under 2023-11, no relay without a matched, trusted, valid certificate name or a P1 domain
 *   accepted by the tenant (a null P1 never);
 * - a recipient in a domain the connection's tenant accepts is never refused by a relay rule, and
 *   one any tenant accepts never gets 5.7.64;
 * - a stranger relays nothing under either rule set; hygiene forms are refused;
 * - the same facts give the same decision, and one recipient at a time (the live session) decides
 *   as all at once (check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { normalizeDomain } from '../core/domain.js';
import type { Directory, Tenant } from '../directory/model.js';
import { DirectoryValidationError, validateDirectory } from '../directory/validate.js';
import { fuzzParameters } from '../../test/support/fuzz.js';
import { buildSnapshot, evaluate } from './index.js';
import type { CertificateFacts, EvaluationInput, TransactionDecision } from './types.js';

// --- Generated directories: up to three tenants over a small world of names, so that they collide. ---

const domainPools = [
  ['a.example', 'mail.a.example', 'xn--mller-kva.example'],
  ['b.example', 'sub.b.example'],
  ['c.example', 'relay.c.example', 'other.example'],
];
const ranges = ['10.0.0.0/24', '10.0.0.5/32', '10.0.1.0/24', '10.0.0.0/16', '2001:db8::/64', '2001:db8::5/128'];
const certNames = ['a.example', 'mail.a.example', '*.b.example', 'c.example', 'relay.c.example', '*.other.example', 'unaccepted.example'];

const acceptedDomain = (domain: string) =>
  fc.oneof(
    fc.constant({ domain, type: 'Authoritative' as const, matchSubDomains: false }),
    fc.record({ domain: fc.constant(domain), type: fc.constant('InternalRelay' as const), matchSubDomains: fc.boolean() }),
  );

const connector = (name: string) =>
  fc
    .record({
      type: fc.constantFrom('OnPremises' as const, 'Partner' as const),
      enabled: fc.boolean(),
      senderIPAddresses: fc.subarray(ranges, { maxLength: 2 }),
      tlsSenderCertificateName: fc.option(fc.constantFrom(...certNames), { nil: null }),
      requireTls: fc.boolean(),
      restrictDomainsToIPAddresses: fc.boolean(),
      restrictDomainsToCertificate: fc.boolean(),
      senderDomains: fc.constantFrom(['*'], ['foreign.example'], ['*.z.test'], ['a.example']),
    })
    .map((c) => ({ name, ...c, ...(c.senderIPAddresses.length === 0 && c.tlsSenderCertificateName === null ? { senderIPAddresses: ['10.0.0.5/32'] } : {}) }));

const tenant = (i: number) =>
  fc.record({
    name: fc.constant(`t${i}`),
    relayRuleSet: fc.constantFrom('auto', '2023-11', 'legacy'),
    rejectDirectSend: fc.boolean(),
    acceptedDomains: fc.subarray(domainPools[i]!, { minLength: 1 }).chain((ds) => fc.tuple(...ds.map(acceptedDomain))),
    inboundConnectors: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => connector(`c${k}`)))),
  });

const directory = fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => tenant(i)))).map((tenants) => ({ tenants }));

// --- Generated facts. ---

const at = fc.constantFrom(new Date('2023-06-01T12:00:00Z'), new Date('2024-03-01T12:00:00Z'));
const certificate = fc.option(
  fc.record({
    names: fc.subarray([...certNames, 'x.b.example', 'deep.x.other.example', 'evil.example', 'A.EXAMPLE']),
    trusted: fc.boolean(),
    notBefore: fc.constantFrom('2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
    notAfter: fc.constantFrom('2023-01-01T00:00:00Z', '2030-01-01T00:00:00Z'),
  }),
  { nil: null },
);
const senders = ['', 'app@a.example', 'APP@A.EXAMPLE.', 'x@foreign.example', 'x@sub.b.example', 'x@mail.a.example', 'x@c.example', 'a%b@a.example', '@foreign.example:x@b.example', 'x@[10.0.0.1]', 'postmaster', 'x@müller.example'];
const recipientPool = [
  'u@a.example', 'u@b.example', 'u@c.example', 'u@sub.b.example', 'u@deep.sub.b.example', 'u@mail.a.example', 'u@other.example', 'u@foreign.example', 'u@z.test',
  'U@B.EXAMPLE.', 'u@müller.example', 'u%v@a.example', 'x!y@b.example', '"a@b"@c.example', 'u@[10.0.0.1]', '@a.example:u@foreign.example', 'u\x01@a.example', 'u@evila.example',
];
const facts = fc.record({
  ip: fc.constantFrom('10.0.0.5', '10.0.0.7', '10.0.1.9', '10.0.9.1', '2001:db8::5', '2001:db8::9', '::ffff:10.0.0.5', '192.0.2.1'),
  tls: fc.boolean(),
  certificate,
  mailFrom: fc.constantFrom(...senders),
  recipients: fc.subarray(recipientPool, { minLength: 1, maxLength: 5 }),
  headerFrom: fc.constantFrom(undefined, null, 'x@a.example', 'Boss <x@b.example>', 'x@foreign.example'),
  allowAddressLiterals: fc.boolean(),
  at,
});

type Facts = typeof facts extends fc.Arbitrary<infer T> ? T : never;

function input(f: Facts, recipients = f.recipients): EvaluationInput {
  return {
    connection: { ip: f.ip, tls: f.tls, certificate: f.certificate as CertificateFacts | null },
    message: { mailFrom: f.mailFrom, recipients, ...(f.headerFrom !== undefined ? { headerFrom: f.headerFrom } : {}) },
    at: f.at,
    settings: { allowAddressLiterals: f.allowAddressLiterals },
  };
}

// --- The contract's facts, computed apart from the engine. ---

function accepts(t: Tenant, domain: string | null): boolean {
  if (domain === null) return false;
  return t.acceptedDomains.some((a) => a.domain === domain || (a.matchSubDomains && domain.endsWith(`.${a.domain}`)));
}

function inRange(ip: string, cidr: string): boolean {
  const addr = ipaddr.process(ip);
  const [range, bits] = ipaddr.parseCIDR(cidr);
  const r = range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() ? (range as ipaddr.IPv6).toIPv4Address() : range;
  return addr.kind() === r.kind() && addr.match(r, r.kind() === range.kind() ? bits : bits - 96);
}

/** §2: the names that count: trusted, within validity at the instant, lower case. */
function validNames(f: Facts): string[] {
  const c = f.certificate;
  if (!c || !c.trusted) return [];
  if (f.at < new Date(c.notBefore) || f.at > new Date(c.notAfter)) return [];
  return c.names.map((n) => n.toLowerCase());
}

/** §1: `*.parent` matches parent and every subdomain; a name matches itself. Lenient for a presented wildcard. */
function nameMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (!pattern.startsWith('*.')) return false;
  const parent = pattern.slice(2);
  return name === parent || name.endsWith(`.${parent}`);
}

/** The enabled OnPremises connectors of t that match the connection, with the certificate names that did. */
function matching(t: Tenant, f: Facts): { any: boolean; names: string[] } {
  const names = validNames(f);
  let any = false;
  const matched: string[] = [];
  for (const c of t.inboundConnectors) {
    if (!c.enabled || c.type !== 'OnPremises') continue;
    if (c.senderIPAddresses.some((r) => inRange(f.ip, r))) any = true;
    const pattern = c.tlsSenderCertificateName;
    if (pattern) for (const n of names) if (nameMatches(pattern, n)) (any = true), matched.push(n);
  }
  return { any, names: matched };
}

/** The domain an address routes to by §5, leniently (a necessary condition needs no hygiene). */
function routeDomain(address: string): string | null {
  const at = address.lastIndexOf('@');
  return at < 0 ? null : normalizeDomain(address.slice(at + 1));
}

function decide(dir: Directory, f: Facts, recipients?: string[]): TransactionDecision {
  return evaluate(buildSnapshot(dir), input(f, recipients));
}

function validated(raw: unknown): Directory {
  try {
    return validateDirectory(raw);
  } catch (err) {
    if (err instanceof DirectoryValidationError) {
      fc.pre(false);
    }
    throw err;
  }
}

test('no relay without an enabled OnPremises connector of the tenant that matches the connection; a stranger relays nothing', () => {
  fc.assert(
    fc.property(directory, facts, (raw, f) => {
      const dir = validated(raw);
      const d = decide(dir, f);
      const stranger = dir.tenants.every((t) => !matching(t, f).any);
      for (const r of d.recipients) {
        for (const verdict of [r.currentVerdict, r.legacyVerdict]) {
          if (verdict !== 'relay' && verdict !== 'pending') continue;
          assert.ok(!stranger, `a stranger got ${verdict} for ${r.address}`);
          // The tenant of a relay or pending verdict in force; for the other rule set's, the
          // connection's (the one in force may name the recipient's tenant of an inbound verdict).
          const name = r.verdict === verdict ? r.tenant : d.tenant;
          const t = dir.tenants.find((x) => x.name === name);
          if (name !== null) assert.ok(t && matching(t, f).any, `${verdict} for ${r.address} with tenant ${name}, whose connectors do not match`);
        }
      }
    }),
    fuzzParameters(800),
  );
});

test('under 2023-11, no relay without a matched certificate name or the P1 domain accepted by the tenant', () => {
  fc.assert(
    fc.property(directory, facts, (raw, f) => {
      const dir = validated(raw);
      const d = decide(dir, f);
      for (const r of d.recipients) {
        if (r.currentVerdict !== 'relay') continue;
        const t = dir.tenants.find((x) => x.name === r.tenant)!;
        const byCertificate = matching(t, f).names.some((n) => accepts(t, normalizeDomain(n.replace(/^\*\./, ''))));
        const byP1 = f.mailFrom !== '' && accepts(t, routeDomain(f.mailFrom));
        assert.ok(byCertificate || byP1, `relay of ${r.address} for ${t.name} with P1 <${f.mailFrom}> and names ${validNames(f).join(',')}`);
      }
    }),
    fuzzParameters(800),
  );
});

test("a recipient the connection's tenant accepts is never refused by a relay rule; one any tenant accepts never gets 5.7.64", () => {
  fc.assert(
    fc.property(directory, facts, (raw, f) => {
      const dir = validated(raw);
      const d = decide(dir, f);
      const owner = dir.tenants.find((t) => t.name === d.tenant);
      for (const r of d.recipients) {
        if (r.rule === 'hygiene' || d.mailFromReply) continue;
        const domain = r.domain;
        if (owner && accepts(owner, domain) && r.rule !== 'require-tls') {
          assert.equal(r.verdict, 'internal', `${r.address} is ${owner.name}'s: ${r.rule} ${r.reply.code}`);
        }
        if (dir.tenants.some((t) => accepts(t, domain))) assert.notEqual(r.rule, 'nobody', `${r.address} got 5.7.64`);
      }
    }),
    fuzzParameters(800),
  );
});

test('hygiene forms are refused 501 5.1.3 whoever sends them; whatever relays under 2023-11 relays under legacy', () => {
  fc.assert(
    fc.property(directory, facts, (raw, f) => {
      const dir = validated(raw);
      const d = decide(dir, f);
      d.recipients.forEach((r, i) => {
        const given = f.recipients[i]!;
        if (/[%!\x01]|"a@b"/.test(given)) assert.deepEqual([r.verdict, r.reply.code, r.reply.enhanced], ['rejected', d.mailFromReply?.code ?? 501, d.mailFromReply?.enhanced ?? '5.1.3'], given);
        if (r.currentVerdict === 'relay') assert.equal(r.legacyVerdict, 'relay', given);
        assert.equal(r.reply.code === 250, r.verdict !== 'rejected', `${given}: ${r.verdict} with ${r.reply.code}`);
      });
    }),
    fuzzParameters(800),
  );
});

test('the same facts give the same decision, and one recipient at a time decides as all at once', () => {
  fc.assert(
    fc.property(directory, facts, (raw, f) => {
      const dir = validated(raw);
      const all = decide(dir, f);
      assert.deepEqual(decide(dir, f), all);
      f.recipients.forEach((rcpt, i) => {
        assert.deepEqual(decide(dir, f, [rcpt]).recipients[0], all.recipients[i], rcpt);
      });
    }),
    fuzzParameters(300),
  );
});
