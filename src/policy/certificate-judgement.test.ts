import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeCertificate } from './certificate-judgement.js';

const at = new Date('2024-03-01T10:00:00Z');

describe('judgeCertificate (relay-policy.md §2: names only from a trusted, valid certificate)', () => {
  test('no certificate: not presented, no names, no reason', () => {
    assert.deepEqual(judgeCertificate(null, at), { presented: false, names: [], reason: null });
    assert.deepEqual(judgeCertificate(undefined, at), { presented: false, names: [], reason: null });
  });

  test('trusted and valid: CN and SANs lower-cased, trailing dot dropped, duplicates removed', () => {
    const j = judgeCertificate(
      { names: ['Mail.Contoso.com', 'mail.contoso.com.', 'SMTP.contoso.com', ' '], trusted: true, notBefore: '2024-01-01T00:00:00Z', notAfter: '2025-01-01T00:00:00Z' },
      at,
    );
    assert.deepEqual(j, { presented: true, names: ['mail.contoso.com', 'smtp.contoso.com'], reason: null });
  });

  test('untrusted: no names, the verifier reason recorded', () => {
    const j = judgeCertificate({ names: ['mail.contoso.com'], trusted: false, untrustedReason: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, at);
    assert.deepEqual(j.names, []);
    assert.equal(j.presented, true);
    assert.match(j.reason ?? '', /not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
  });

  test('untrusted without a reason still says why', () => {
    assert.match(judgeCertificate({ names: ['mail.contoso.com'], trusted: false }, at).reason ?? '', /not trusted/);
  });

  test('expired one millisecond before the instant: no names', () => {
    const j = judgeCertificate({ names: ['mail.contoso.com'], trusted: true, notAfter: '2024-03-01T09:59:59.999Z' }, at);
    assert.deepEqual(j.names, []);
    assert.match(j.reason ?? '', /expired/);
  });

  test('not yet valid one millisecond after the instant: no names', () => {
    const j = judgeCertificate({ names: ['mail.contoso.com'], trusted: true, notBefore: '2024-03-01T10:00:00.001Z' }, at);
    assert.deepEqual(j.names, []);
    assert.match(j.reason ?? '', /not yet valid/);
  });

  test('both validity bounds are inclusive (RFC 5280 §4.1.2.5)', () => {
    const j = judgeCertificate({ names: ['mail.contoso.com'], trusted: true, notBefore: '2024-03-01T10:00:00Z', notAfter: '2024-03-01T10:00:00Z' }, at);
    assert.deepEqual(j.names, ['mail.contoso.com']);
  });

  test('trust is judged before validity: an untrusted expired certificate reports the trust failure', () => {
    const j = judgeCertificate({ names: ['x.example'], trusted: false, untrustedReason: 'CERT_HAS_EXPIRED', notAfter: '2020-01-01T00:00:00Z' }, at);
    assert.match(j.reason ?? '', /not trusted: CERT_HAS_EXPIRED/);
  });

  test('a trusted certificate without any name gives a reason', () => {
    const j = judgeCertificate({ names: [], trusted: true }, at);
    assert.deepEqual(j, { presented: true, names: [], reason: 'no CN or DNS subjectAltName' });
  });

  test('an unreadable validity date fails closed: no names', () => {
    for (const bad of [{ notAfter: 'soon' }, { notBefore: '' }]) {
      const j = judgeCertificate({ names: ['mail.contoso.com'], trusted: true, ...bad }, at);
      assert.deepEqual(j.names, [], JSON.stringify(bad));
      assert.match(j.reason ?? '', /unreadable validity date/);
    }
  });
});
