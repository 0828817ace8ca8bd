/**
 * Properties of the Exchange Online import over generated exports: any JSON text, any object with
 * the cmdlets' property names and arbitrary values, and well-formed exports in the shapes both
 * PowerShell versions write. Bad input is an ExchangeImportError naming what is wrong, never another
 * failure; a well-formed export comes out as the tenant it describes, in every encoding and wrapping;
 * an address range becomes CIDR blocks covering exactly the same addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { normalizeDomain } from '../core/domain.js';
import { parseDirectoryYaml, serializeDirectoryYaml } from '../directory/yaml.js';
import { validateDirectory } from '../directory/validate.js';
import { fuzzParameters } from '../../test/support/fuzz.js';
import { buildExchangeOnlineTenant } from './exchange-online-import.js';
import { ExchangeImportError } from './import-error.js';
import { rangeToCidrs } from './ip-range.js';
import { decodeText, parsePowerShellJson, type JsonObject } from './powershell-json.js';

const files = { acceptedDomains: 'ad.json', inboundConnectors: 'ic.json', tenant: 'contoso' };

/** Runs `f`; an ExchangeImportError is the one allowed failure. */
function importOrRefuse<T>(f: () => T): T | ExchangeImportError {
  try {
    return f();
  } catch (err) {
    assert.ok(err instanceof ExchangeImportError, `not an ExchangeImportError: ${String(err)}`);
    assert.ok(err.message.length > 0);
    return err;
  }
}

const domainProps = ['DomainName', 'DomainType', 'MatchSubDomains', 'Default', 'InitialDomain', 'Name', 'OutboundOnly'];
const connectorProps = ['Name', 'Enabled', 'ConnectorType', 'SenderIPAddresses', 'SenderDomains', 'TlsSenderCertificateName', 'RequireTls', 'RestrictDomainsToIPAddresses', 'RestrictDomainsToCertificate', 'TreatMessagesAsInternal', 'CloudServicesMailEnabled', 'Comment', 'AssociatedAcceptedDomains'];
const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('contoso.com', '*.contoso.com', '203.0.113.0/24', '10.0.0.1-10.0.0.9', 'smtp:*;1', 'OnPremises', 'Partner', 'Authoritative', 'InternalRelay', 1, 2, '<I>CN=CA<S>CN=mail.contoso.com', 'mail.contoso.com', true, false, null));
const objectOf = (props: string[]) => fc.dictionary(fc.constantFrom(...props, ...props.map((p) => p.toLowerCase()), 'Identity'), value, { maxKeys: props.length });

test('any JSON text is a list of objects or an ExchangeImportError, and decodes the same from UTF-8, UTF-8 with BOM, UTF-16 LE and BE', () => {
  fc.assert(
    fc.property(fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 40 })), (text) => {
      const utf16be = Buffer.from(text, 'utf16le');
      utf16be.swap16();
      for (const bytes of [Buffer.from(text, 'utf8'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be])]) {
        assert.equal(decodeText(bytes), text);
      }
      const parsed = importOrRefuse(() => parsePowerShellJson(text, 'x.json'));
      if (!(parsed instanceof ExchangeImportError)) for (const o of parsed) assert.ok(typeof o === 'object' && o !== null && !Array.isArray(o));
    }),
    fuzzParameters(2000),
  );
});

test("objects with the cmdlets' property names and arbitrary values: a validated tenant or an ExchangeImportError, never another failure", () => {
  fc.assert(
    fc.property(fc.array(objectOf(domainProps), { maxLength: 3 }), fc.array(objectOf(connectorProps), { maxLength: 3 }), (domains, connectors) => {
      const r = importOrRefuse(() => buildExchangeOnlineTenant(domains, connectors, files));
      if (!(r instanceof ExchangeImportError)) assert.deepEqual(validateDirectory(r.directory), r.directory);
    }),
    fuzzParameters(3000),
  );
});

// --- Well-formed exports. ---

const label = fc.string({ unit: fc.constantFrom(...'abcdefxyz0129'), minLength: 1, maxLength: 6 });
const domainName = fc.oneof({ weight: 5, arbitrary: fc.tuple(label, label).map(([a, b]) => `${a}.${b}.example`) }, { weight: 1, arbitrary: label.map((a) => `${a}ü.example`) });
const v4Range = fc.tuple(fc.ipV4(), fc.ipV4()).map(([a, b]) => (v4Int(a) <= v4Int(b) ? `${a}-${b}` : `${b}-${a}`));
const senderIp = fc.oneof(fc.ipV4(), fc.tuple(fc.ipV4(), fc.integer({ min: 8, max: 32 })).map(([a, n]) => `${a}/${n}`), v4Range, fc.ipV6().map((a) => `${a}/64`));

const wellFormed = fc.record({
  domains: fc.uniqueArray(fc.record({ name: domainName, type: fc.constantFrom<[string | number, 'Authoritative' | 'InternalRelay']>(['Authoritative', 'Authoritative'], [0, 'Authoritative'], ['InternalRelay', 'InternalRelay'], [2, 'InternalRelay'], ['2', 'InternalRelay']), sub: fc.boolean() }), { minLength: 1, maxLength: 4, selector: (d) => normalizeDomain(d.name) }),
  connectors: fc.uniqueArray(
    fc.record({
      name: label,
      type: fc.constantFrom<[string | number, 'OnPremises' | 'Partner']>(['OnPremises', 'OnPremises'], [1, 'OnPremises'], ['Partner', 'Partner'], [2, 'Partner']),
      enabled: fc.boolean(),
      ips: fc.array(senderIp, { minLength: 1, maxLength: 3 }),
      cert: fc.option(fc.oneof(domainName, domainName.map((d) => `<I>CN=Some CA, O=CA Inc<S>CN=${d}, O=Contoso`)), { nil: null }),
      wrapped: fc.boolean(),
    }),
    { maxLength: 3, selector: (c) => c.name.toLowerCase() },
  ),
});

test('a well-formed export is imported as the tenant it describes: domains, types, connectors, certificate names, IP ranges', () => {
  fc.assert(
    fc.property(wellFormed, ({ domains, connectors }) => {
      const domainObjects: JsonObject[] = domains.map((d, i) => ({ DomainName: d.name, DomainType: d.type[0], MatchSubDomains: d.sub && d.type[1] === 'InternalRelay', Default: i === 0, InitialDomain: false, Name: d.name }));
      const connectorObjects: JsonObject[] = connectors.map((c) => ({
        Name: c.name,
        Enabled: c.enabled,
        ConnectorType: c.type[0],
        // Windows PowerShell 5.1 wraps arrays in {"value": [...], "Count": n}.
        SenderIPAddresses: c.wrapped ? { value: c.ips, Count: c.ips.length } : c.ips,
        SenderDomains: ['smtp:*;1'],
        TlsSenderCertificateName: c.cert,
        RequireTls: false,
        Comment: '',
      }));
      const r = buildExchangeOnlineTenant(domainObjects, connectorObjects, files);
      assert.deepEqual(
        r.tenant.acceptedDomains,
        domains.map((d) => ({ domain: normalizeDomain(d.name), type: d.type[1], matchSubDomains: d.sub && d.type[1] === 'InternalRelay' })),
      );
      assert.deepEqual(r.tenant.inboundConnectors.map((c) => [c.name, c.type, c.enabled]), connectors.map((c) => [c.name, c.type[1], c.enabled]));
      r.tenant.inboundConnectors.forEach((imported, i) => {
        const c = connectors[i]!;
        const name = c.cert === null ? null : normalizeDomain(c.cert.replace(/^<I>.*<S>CN=([^,]+).*$/, '$1'));
        assert.equal(imported.tlsSenderCertificateName, name);
        assert.deepEqual(coverage(imported.senderIPAddresses), coverage(c.ips.flatMap(asCidrs)), `${c.ips.join(' ')} → ${imported.senderIPAddresses.join(' ')}`);
      });
      // What is written is what apply reads back.
      assert.deepEqual(parseDirectoryYaml(serializeDirectoryYaml(r.directory)), r.directory);
    }),
    fuzzParameters(200),
  );
});

test('an address range becomes aligned CIDR blocks that cover exactly low to high, at most two per bit', () => {
  const v6Int = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
  const nearBoundary = fc.tuple(fc.integer({ min: 0, max: 127 }), fc.bigInt({ min: -3n, max: 3n })).map(([bit, d]) => {
    const v = (1n << BigInt(bit)) + d;
    return v < 0n ? 0n : v;
  });
  const bound = fc.oneof(v6Int, nearBoundary);
  const v4 = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }));
  fc.assert(
    fc.property(fc.oneof(v4.map(([a, b]) => [BigInt(a), BigInt(b), 32] as const), fc.tuple(bound, bound).map(([a, b]) => [a, b, 128] as const)), ([a, b, bits]) => {
      const [low, high] = a <= b ? [a, b] : [b, a];
      const text = (v: bigint) => toText(v, bits);
      if (low !== high) assert.equal(rangeToCidrs(text(high), text(low)), null, 'inverted bounds');
      const blocks = rangeToCidrs(text(low), text(high));
      assert.ok(blocks && blocks.length > 0 && blocks.length <= 2 * bits);
      let next = low;
      for (const block of blocks) {
        const [start, size] = blockOf(block, bits);
        assert.equal(start, next, `${block} starts where the previous block ended`);
        assert.equal(start % size, 0n, `${block} is aligned`);
        next = start + size;
      }
      assert.equal(next, high + 1n, 'the last block ends at high');
    }),
    fuzzParameters(500),
  );
});

// --- Helpers: address arithmetic written for the test, apart from ip-range.ts. ---

function v4Int(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function toText(v: bigint, bits: number): string {
  const bytes: number[] = [];
  for (let i = bits / 8 - 1; i >= 0; i--) bytes.push(Number((v >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

function toInt(addr: string): { v: bigint; bits: number } {
  const bytes = ipaddr.parse(addr).toByteArray();
  return { v: bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n), bits: bytes.length * 8 };
}

/** [first address, size] of `a.b.c.d/n` or a single address. */
function blockOf(cidr: string, bits: number): [bigint, bigint] {
  const [addr, len] = cidr.split('/');
  const { v } = toInt(addr!);
  const size = 1n << BigInt(bits - (len === undefined ? bits : Number(len)));
  return [v - (v % size), size];
}

/** An export's SenderIPAddresses entry as the CIDR block(s) it means. */
function asCidrs(entry: string): string[] {
  if (!entry.includes('-')) return [entry];
  const [low, high] = entry.split('-') as [string, string];
  const { v: lo, bits } = toInt(low);
  const { v: hi } = toInt(high);
  // A whole range as one "block list" of single addresses would be too long: compare by interval.
  return [`range:${lo}:${hi}:${bits}`];
}

/** The addresses covered, as sorted, merged intervals per family. */
function coverage(entries: string[]): string[] {
  const intervals: Array<[number, bigint, bigint]> = entries.map((e) => {
    if (e.startsWith('range:')) {
      const [, lo, hi, bits] = e.split(':');
      return [Number(bits), BigInt(lo!), BigInt(hi!)];
    }
    const { bits } = toInt(e.split('/')[0]!);
    const [start, size] = blockOf(e, bits);
    return [bits, start, start + size - 1n];
  });
  intervals.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  const merged: Array<[number, bigint, bigint]> = [];
  for (const i of intervals) {
    const last = merged[merged.length - 1];
    if (last && last[0] === i[0] && i[1] <= last[2] + 1n) last[2] = i[2] > last[2] ? i[2] : last[2];
    else merged.push([...i]);
  }
  return merged.map(([bits, lo, hi]) => `${bits}:${lo}-${hi}`);
}
