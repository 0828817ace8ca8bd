import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatPrefix, parsePrefix, prefixContains, type ParsedPrefix } from '../core/ip-prefix.js';
import { IpPrefixIndex } from './ip-prefix-index.js';

function p(text: string): ParsedPrefix {
  const parsed = parsePrefix(text);
  assert.ok(parsed, `${text} should parse`);
  return parsed;
}

describe('parsePrefix and formatPrefix', () => {
  const cases: Array<[string, string]> = [
    ['203.0.113.7', '203.0.113.7/32'],
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['2001:DB8:C:0:0:0:0:7/48', '2001:db8:c::/48'],
    // IPv4-mapped IPv6 is IPv4 (relay-policy.md §1), prefix lengths shifted by 96.
    ['::ffff:203.0.113.5', '203.0.113.5/32'],
    ['::ffff:203.0.113.0/120', '203.0.113.0/24'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => assert.equal(formatPrefix(p(input)), expected));
  }
  test('the family of a mapped address is ipv4', () => assert.equal(p('::ffff:192.0.2.1').family, 'ipv4'));
  for (const bad of ['', '203.0.113', '203.0.113.256', '203.0.113.0/33', '2001:db8::/129', 'localhost', '1.2.3.4/x']) {
    test(`malformed ${JSON.stringify(bad)} → null`, () => assert.equal(parsePrefix(bad), null));
  }
});

describe('prefixContains', () => {
  test('inside, outside, family mismatch', () => {
    assert.equal(prefixContains(p('203.0.113.0/24'), p('203.0.113.255')), true);
    assert.equal(prefixContains(p('203.0.113.0/24'), p('203.0.114.0')), false);
    assert.equal(prefixContains(p('2001:db8:c::/48'), p('2001:db8:c:ffff::1')), true);
    assert.equal(prefixContains(p('2001:db8:c::/48'), p('2001:db8:d::1')), false);
    assert.equal(prefixContains(p('203.0.113.0/24'), p('2001:db8::1')), false);
    assert.equal(prefixContains(p('203.0.113.0/24'), p('::ffff:203.0.113.9')), true);
    assert.equal(prefixContains(p('0.0.0.0/0'), p('198.51.100.1')), true);
  });
});

describe('IpPrefixIndex', () => {
  const index = new IpPrefixIndex<string>();
  index.insert(p('10.0.0.0/8'), 'wide');
  index.insert(p('10.1.0.0/16'), 'mid');
  index.insert(p('10.1.2.0/24'), 'narrow-a');
  index.insert(p('10.1.2.0/24'), 'narrow-b');
  index.insert(p('10.1.2.3'), 'host');
  index.insert(p('2001:db8::/32'), 'v6');
  index.insert(p('2001:db8:c::/48'), 'v6-48');

  test('every containing prefix, shortest first', () => {
    assert.deepEqual(index.lookup('10.1.2.3'), ['wide', 'mid', 'narrow-a', 'narrow-b', 'host']);
    assert.deepEqual(index.lookup('10.1.2.4'), ['wide', 'mid', 'narrow-a', 'narrow-b']);
    assert.deepEqual(index.lookup('10.2.0.1'), ['wide']);
    assert.deepEqual(index.lookup('11.0.0.1'), []);
  });

  test('IPv4-mapped IPv6 sources find IPv4 entries', () => {
    assert.deepEqual(index.lookup('::ffff:10.1.2.3'), ['wide', 'mid', 'narrow-a', 'narrow-b', 'host']);
    assert.deepEqual(index.lookup('::ffff:11.0.0.1'), []);
  });

  test('IPv6 lookups stay in their family', () => {
    assert.deepEqual(index.lookup('2001:db8:c::25'), ['v6', 'v6-48']);
    assert.deepEqual(index.lookup('2001:db8:d::25'), ['v6']);
    // ::a01:203 is 10.1.2.3's bits in IPv6 but not a mapped address: no IPv4 entry matches.
    assert.deepEqual(index.lookup('::a01:203'), []);
  });

  test('a malformed address matches nothing', () => assert.deepEqual(index.lookup('not-an-ip'), []));

  test('overlapping: prefixes containing the given one and those inside it', () => {
    assert.deepEqual(index.overlapping(p('10.1.0.0/16')).sort(), ['host', 'mid', 'narrow-a', 'narrow-b', 'wide']);
    assert.deepEqual(index.overlapping(p('10.3.0.0/16')), ['wide']);
    assert.deepEqual(index.overlapping(p('192.0.2.0/24')), []);
    assert.deepEqual(index.overlapping(p('2001:db8:c::/64')).sort(), ['v6', 'v6-48']);
  });

  test('a /0 entry contains every address of its family only', () => {
    const all = new IpPrefixIndex<string>();
    all.insert(p('0.0.0.0/0'), 'any4');
    assert.deepEqual(all.lookup('198.51.100.1'), ['any4']);
    assert.deepEqual(all.lookup('2001:db8::1'), []);
  });
});
