import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  certificateNameDomain,
  certificateNameMatches,
  lookupKeysForPresentedName,
  parseCertificateNamePattern,
  patternKey,
  type CertificateNamePattern,
} from './certificate-name.js';

function pattern(text: string): CertificateNamePattern {
  const p = parseCertificateNamePattern(text);
  assert.ok(p, `${text} should be a valid pattern`);
  return p;
}

describe('parseCertificateNamePattern (relay-policy.md §1)', () => {
  const valid: Array<[string, string]> = [
    ['mail.contoso.com', 'mail.contoso.com'],
    ['MAIL.Contoso.COM', 'mail.contoso.com'],
    ['mail.contoso.com.', 'mail.contoso.com'],
    ['*.contoso.com', '*.contoso.com'],
    ['*.Contoso.com.', '*.contoso.com'],
    ['contoso.com', 'contoso.com'],
  ];
  for (const [input, key] of valid) {
    test(`${input} → ${key}`, () => assert.equal(patternKey(pattern(input)), key));
  }
  // A `*` anywhere but as the whole first label is invalid.
  for (const bad of ['mail.*.contoso.com', '*', '*.', '**.contoso.com', '*contoso.com', 'mail*.contoso.com', 'contoso.*', '*.*.contoso.com', '', 'bad..name']) {
    test(`${JSON.stringify(bad)} is invalid`, () => assert.equal(parseCertificateNamePattern(bad), null));
  }
});

describe('certificateNameMatches', () => {
  const cases: Array<[string, string, boolean, string]> = [
    ['mail.contoso.com', 'mail.contoso.com', true, 'exact'],
    ['mail.contoso.com', 'MAIL.CONTOSO.COM.', true, 'case and trailing dot ignored'],
    ['mail.contoso.com', 'smtp.contoso.com', false, 'another host'],
    ['mail.contoso.com', 'contoso.com', false, 'the parent of an exact name'],
    ['mail.contoso.com', 'x.mail.contoso.com', false, 'a subdomain of an exact name'],
    ['*.contoso.com', 'contoso.com', true, 'a wildcard matches its parent itself'],
    ['*.contoso.com', 'mail.contoso.com', true, 'one level down'],
    ['*.contoso.com', 'a.b.c.contoso.com', true, 'any depth'],
    ['*.contoso.com', 'evilcontoso.com', false, 'label boundary'],
    ['*.contoso.com', 'contoso.com.evil.example', false, 'suffix elsewhere'],
    ['*.contoso.com', 'com', false, 'a parent of the parent'],
    ['*.contoso.com', '*.contoso.com', true, 'a presented wildcard certificate of the same parent'],
    ['*.contoso.com', '*.mail.contoso.com', false, 'a presented wildcard of another parent'],
    ['mail.contoso.com', '*.contoso.com', false, 'a presented wildcard against an exact name (our rule)'],
  ];
  for (const [pat, presented, expected, why] of cases) {
    test(`${pat} vs ${presented}: ${expected} (${why})`, () => assert.equal(certificateNameMatches(pattern(pat), presented), expected));
  }

  test('the index keys of a presented name find exactly the patterns that match it', () => {
    const patterns = ['mail.contoso.com', '*.contoso.com', '*.mail.contoso.com', '*.com', 'contoso.com', '*.evilcontoso.com'].map(pattern);
    for (const presented of ['mail.contoso.com', 'a.b.mail.contoso.com', 'contoso.com', 'evilcontoso.com', '*.contoso.com', 'MAIL.contoso.com.']) {
      const keys = new Set(lookupKeysForPresentedName(presented));
      for (const p of patterns) {
        assert.equal(keys.has(patternKey(p)), certificateNameMatches(p, presented), `${presented} vs ${patternKey(p)}`);
      }
    }
  });

  test('a presented name that is not a host name has no keys', () => {
    assert.deepEqual(lookupKeysForPresentedName('not a host'), []);
  });
});

describe('certificateNameDomain (the domain condition 1a checks)', () => {
  test('a host name stands for itself, a wildcard certificate for its parent', () => {
    assert.equal(certificateNameDomain('Mail.Contoso.com.'), 'mail.contoso.com');
    assert.equal(certificateNameDomain('*.contoso.com'), 'contoso.com');
    assert.equal(certificateNameDomain('fabrikam-relay01'), 'fabrikam-relay01');
    assert.equal(certificateNameDomain('not a host'), null);
  });
});
