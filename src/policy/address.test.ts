import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressDomain, firstHeaderAddress, parseEnvelopeAddress, type ParsedAddress } from './address.js';

/** A parse result reduced to what the hygiene rules of relay-policy.md §5 decide. */
function summary(p: ParsedAddress): string {
  switch (p.kind) {
    case 'null':
      return 'null';
    case 'invalid':
      return 'invalid';
    case 'literal':
      return `literal ${p.address}`;
    case 'mailbox':
      return `mailbox ${p.address}`;
  }
}

describe('parseEnvelopeAddress (relay-policy.md §5)', () => {
  const cases: Array<[string, string, string]> = [
    // [why, input, expected]
    ['plain mailbox', 'alice@contoso.com', 'mailbox alice@contoso.com'],
    ['angle brackets are not part of the address', '<alice@contoso.com>', 'mailbox alice@contoso.com'],
    ['surrounding spaces are trimmed', '  <alice@contoso.com>  ', 'mailbox alice@contoso.com'],
    ['domain case and one trailing dot normalized; local part kept', 'Alice@CONTOSO.com.', 'mailbox Alice@contoso.com'],
    ['IDN domain to its A-label', 'leser@bücher.example', 'mailbox leser@xn--bcher-kva.example'],
    ['null sender, empty', '', 'null'],
    ['null sender, brackets', '<>', 'null'],
    ['source route dropped, final mailbox judged', '<@contoso.com:user@external.example>', 'mailbox user@external.example'],
    ['multi-hop source route dropped', '@a.example,@b.example:user@contoso.com', 'mailbox user@contoso.com'],
    ['source route without a mailbox', '<@contoso.com>', 'invalid'],
    ['percent hack', 'user%external.example@contoso.com', 'invalid'],
    ['bang path with a domain', 'external.example!user@contoso.com', 'invalid'],
    ['bang path without a domain', 'external.example!user', 'invalid'],
    ['quoted local part holding @', '"user@external.example"@contoso.com', 'invalid'],
    ['quoted local part holding %', '"user%external.example"@contoso.com', 'invalid'],
    ['quoted local part holding !', '"external.example!user"@contoso.com', 'invalid'],
    ['quoted local part without routing characters', '"john doe"@contoso.com', 'mailbox "john doe"@contoso.com'],
    ['quoted local part with an escaped quote', '"a\\"b"@contoso.com', 'mailbox "a\\"b"@contoso.com'],
    ['unterminated quoted local part', '"john@contoso.com', 'invalid'],
    ['a control character in the local part', 'a\x01b@contoso.com', 'invalid'],
    ['a NUL in a quoted local part', '"a\x00b"@contoso.com', 'invalid'],
    ['a zero-width space in the domain', 'a@con\u200btoso.com', 'invalid'],
    ['a BOM before the address, which trimming would drop', '\ufeffa@contoso.com', 'invalid'],
    ['a line end after the address', 'a@contoso.com\r\n', 'invalid'],
    ['a tab after the address', 'a@contoso.com\t', 'invalid'],
    ['a source route with a blank in a hop', '<@a b.example:x@contoso.com>', 'invalid'],
    ['a source route with an empty hop', '<@a.example,:x@contoso.com>', 'invalid'],
    ['an invisible character in a source route goes with the route', '<@a\u200b.example:x@contoso.com>', 'mailbox x@contoso.com'],
    ['a@b@c', 'user@external.example@contoso.com', 'invalid'],
    ['unqualified', 'alice', 'invalid'],
    ['empty local part', '@contoso.com', 'invalid'],
    ['local part with two dots in a row', 'a..b@contoso.com', 'invalid'],
    ['local part ending in a dot', 'a.@contoso.com', 'invalid'],
    ['unbalanced bracket', '<alice@contoso.com', 'invalid'],
    ['malformed domain (label starting with -)', 'alice@-contoso.com', 'invalid'],
    ['malformed domain (empty label)', 'alice@contoso..com', 'invalid'],
    ['only one trailing dot is ignored', 'alice@contoso.com..', 'invalid'],
    ['IPv4 literal', 'user@[198.51.100.7]', 'literal user@[198.51.100.7]'],
    ['IPv6 literal', 'user@[IPv6:2001:db8::1]', 'literal user@[IPv6:2001:db8::1]'],
    ['malformed literal', 'user@[not-an-ip]', 'invalid'],
  ];
  for (const [why, input, expected] of cases) {
    test(`${why}: ${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(summary(parseEnvelopeAddress(input)), expected);
    });
  }

  test('invalid forms carry a reason an admin can read', () => {
    const p = parseEnvelopeAddress('user%external.example@contoso.com');
    assert.equal(p.kind, 'invalid');
    assert.match(p.kind === 'invalid' ? p.reason : '', /percent/);
    const bang = parseEnvelopeAddress('external.example!user');
    assert.match(bang.kind === 'invalid' ? bang.reason : '', /bang path/);
  });

  test('only a mailbox has a routing domain: literals, null and invalid forms have none', () => {
    assert.equal(addressDomain(parseEnvelopeAddress('a@Contoso.COM')), 'contoso.com');
    assert.equal(addressDomain(parseEnvelopeAddress('a@[192.0.2.1]')), null);
    assert.equal(addressDomain(parseEnvelopeAddress('<>')), null);
    assert.equal(addressDomain(parseEnvelopeAddress('a%b@c.example')), null);
  });
});

describe('firstHeaderAddress (P2, relay-policy.md §2)', () => {
  const cases: Array<[string, string | null]> = [
    ['news@contoso.com', 'news@contoso.com'],
    ['"Contoso News" <news@contoso.com>', 'news@contoso.com'],
    ['Contoso <news@contoso.com>, Other <x@other.example>', 'news@contoso.com'],
    ['news@contoso.com, x@other.example', 'news@contoso.com'],
    ['news@contoso.com (Contoso News)', 'news@contoso.com'],
    ['undisclosed-recipients:;', null],
    ['<>', null],
  ];
  for (const [value, expected] of cases) {
    test(`${JSON.stringify(value)} → ${String(expected)}`, () => {
      assert.equal(firstHeaderAddress(value), expected);
    });
  }
});
