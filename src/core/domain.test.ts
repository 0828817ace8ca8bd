import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeDomain } from './domain.js';

test('canonical form: lower case, one trailing dot dropped, A-label; fullwidth and ignorable characters mapped (UTS 46)', () => {
  assert.equal(normalizeDomain('Contoso.COM.'), 'contoso.com');
  assert.equal(normalizeDomain('bücher.example'), 'xn--bcher-kva.example');
  assert.equal(normalizeDomain('ｃｏｎｔｏｓｏ．example'), 'contoso.example');
  assert.equal(normalizeDomain('con\u00adtoso.example'), 'contoso.example');
});

test('an internationalized name with URL delimiters or a percent sign is malformed, not cut or decoded into another name', () => {
  for (const d of ['bücher.example/x', 'bücher.example?x', 'bücher.example#x', 'bücher.example\\x.evil.example', 'ｃｏｎｔｏｓｏ.example%2eevil.example', 'bücher.example:25', 'bü cher.example', 'bücher_x.example', '*.bücher.example']) {
    assert.equal(normalizeDomain(d), null, d);
  }
  for (const d of ['contoso.example/x', 'contoso.example%2e', 'a_b.example']) assert.equal(normalizeDomain(d), null, d);
});
