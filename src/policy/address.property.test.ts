/**
 * Properties of the envelope address parser (relay-policy.md §5) and the split beneath it, over
 * generated addresses: well-formed ones built from parts, every smuggling form built around them,
 * and noise made of the characters that matter (routing characters, quotes, brackets, blanks,
 * controls, invisible and fullwidth characters). `npm run fuzz` runs them long.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { domainOf, splitAddress } from '../core/address.js';
import { normalizeDomain } from '../core/domain.js';
import { fuzzParameters } from '../../test/support/fuzz.js';
import { parseEnvelopeAddress, type ParsedAddress } from './address.js';

const letters = [...'abcxyzABCXYZ0189'];
const label = fc.string({ unit: fc.constantFrom(...letters, '-'), minLength: 1, maxLength: 8 }).filter((l) => !l.startsWith('-') && !l.endsWith('-'));
const idnLabel = fc.string({ unit: fc.constantFrom(...letters, 'ü', 'é', 'ｃ', 'ο', 'с', 'ß'), minLength: 1, maxLength: 8 });
const domain = fc.array(fc.oneof({ weight: 4, arbitrary: label }, { weight: 1, arbitrary: idnLabel }), { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const atom = fc.string({ unit: fc.constantFrom(...letters, ...'+-_=~#$&*/?^{|}`\''), minLength: 1, maxLength: 8 });
const dotAtom = fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join('.'));
const quoted = fc.string({ unit: fc.constantFrom(...letters, ' ', '.', '<', '>', ',', '\\"', '\\\\'), minLength: 1, maxLength: 8 }).map((q) => `"${q}"`);
const local = fc.oneof({ weight: 4, arbitrary: dotAtom }, { weight: 1, arbitrary: quoted });
const mailbox = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
const asciiDomain = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));

/** The characters a hostile client tries. */
const nasty = ['@', '%', '!', '"', '\\', '<', '>', ':', ',', ';', '[', ']', '(', ')', ' ', '\t', '.', '\x00', '\x01', '\x1f', '\x7f', '\x85', '\u200b', '\u2060', '\ufeff', '＠', '．', 'ｃ'];
const noise = fc.string({ unit: fc.constantFrom(...nasty, ...letters), maxLength: 24 });
/** A mailbox with nasty characters spliced in at random places. */
const spliced = fc.tuple(mailbox, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...nasty)), { maxLength: 3 })).map(([m, cuts]) =>
  cuts.reduce((s, [at, ch]) => s.slice(0, at % (s.length + 1)) + ch + s.slice(at % (s.length + 1)), m),
);
const route = fc.array(fc.oneof(domain, spliced), { minLength: 1, maxLength: 2 }).map((hops) => `@${hops.join(',@')}:`);
const anyAddress = fc.oneof(mailbox, spliced, noise, fc.tuple(route, fc.oneof(mailbox, spliced)).map(([r, m]) => r + m), mailbox.map((m) => `<${m}>`));

const parse = (s: string): ParsedAddress => parseEnvelopeAddress(s);

/** C0 and C1 controls, DEL, and the invisible formatting characters: none has a place in an address. */
const unsafe = /[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]/;

test('the parser never throws, and every mailbox it accepts is canonical, routes to the text after its last @, and reparses to itself', () => {
  fc.assert(
    fc.property(anyAddress, (raw) => {
      const p = parse(raw);
      assert.ok(['null', 'mailbox', 'literal', 'invalid'].includes(p.kind));
      if (p.kind !== 'mailbox') return;
      assert.equal(normalizeDomain(p.domain), p.domain, 'the domain is canonical');
      assert.equal(p.address, `${p.local}@${p.domain}`);
      const bare = raw.trim().replace(/^<(.*)>$/s, '$1');
      assert.equal(normalizeDomain(bare.slice(bare.lastIndexOf('@') + 1)), p.domain, 'the domain is what follows the last @');
      assert.deepEqual(parse(p.address), p, 'the judged address is a fixed point');
      assert.equal(domainOf(p.address), p.domain);
    }),
    fuzzParameters(3000),
  );
});

test('no routing character survives outside quotes, and none inside them', () => {
  fc.assert(
    fc.property(anyAddress, (raw) => {
      const p = parse(raw);
      if (p.kind !== 'mailbox' && p.kind !== 'literal') return;
      const inside = p.local.startsWith('"') ? p.local.slice(1, -1) : p.local;
      assert.doesNotMatch(inside, /[@%!]/, `${JSON.stringify(raw)} → local part ${JSON.stringify(p.local)}`);
      if (!p.local.startsWith('"')) assert.doesNotMatch(p.local, /[\s<>(),;:\\"[\]]/);
    }),
    fuzzParameters(3000),
  );
});

test('an accepted address holds no control or invisible character (the live server refuses them, so check must too)', () => {
  fc.assert(
    fc.property(anyAddress, (raw) => {
      const p = parse(raw);
      if (p.kind === 'mailbox' || p.kind === 'literal') assert.doesNotMatch(p.address, unsafe, JSON.stringify(raw));
      // A source route (RFC 5321 A-d-l) is dropped with whatever it holds, as the live session drops it.
      const judged = raw.replace(/^ *<? *@[^\s,:@]+(?:,@[^\s,:@]+)*:/, '');
      if (unsafe.test(judged)) assert.ok(p.kind === 'invalid', `${JSON.stringify(raw)} is ${p.kind}`);
    }),
    fuzzParameters(3000),
  );
});

test('every smuggling form built around a mailbox is refused: percent hack, bang path, quoted routing characters, two @', () => {
  fc.assert(
    fc.property(dotAtom, domain, domain, (l, d1, d2) => {
      for (const form of [`${l}%${d1}@${d2}`, `${d1}!${l}@${d2}`, `${d1}!${l}`, `"${l}@${d1}"@${d2}`, `"${l}%${d1}"@${d2}`, `"${d1}!${l}"@${d2}`, `${l}@${d1}@${d2}`]) {
        assert.equal(parse(form).kind, 'invalid', form);
      }
    }),
    fuzzParameters(1000),
  );
});

test('source routes are dropped, and case (of an ASCII domain), one trailing dot and angle brackets change nothing', () => {
  fc.assert(
    fc.property(local, domain, asciiDomain, fc.array(domain, { minLength: 1, maxLength: 3 }), (l, d, ascii, route) => {
      const m = `${l}@${d}`;
      const p = parse(m);
      assert.deepEqual(parse(`@${route.join(',@')}:${m}`), p);
      assert.deepEqual(parse(`<${m}>`), p);
      // Case folding is ASCII's only: 'ß' upper-cased is 'SS', another label.
      assert.deepEqual(parse(`${l}@${ascii.toUpperCase()}.`), parse(`${l}@${ascii}`));
    }),
    fuzzParameters(1000),
  );
});

test('the split is at the last @: local part and domain come back as they were written', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 16 }), fc.string({ maxLength: 16 }).filter((d) => !d.includes('@')), (l, d) => {
      assert.deepEqual(splitAddress(`${l}@${d}`), { local: l, domain: d });
      assert.equal(domainOf(`${l}@${d}`), normalizeDomain(d));
    }),
    fuzzParameters(2000),
  );
});
