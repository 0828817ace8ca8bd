import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createTestPki } from './certificates.js';

test('the test PKI makes valid, expired, self-signed, wrong-CA and wrong-name certificates', () => {
  const pki = createTestPki();
  try {
    const ca = new X509Certificate(pki.ca.cert);
    const other = new X509Certificate(pki.otherCa.cert);
    const server = new X509Certificate(pki.server.cert);
    assert.ok(server.checkIssued(ca));
    assert.ok(server.checkHost('localhost'));
    const valid = new X509Certificate(pki.client('valid', { cn: 'mail.demo.example', dnsNames: ['mail.demo.example', 'alt.demo.example'] }).cert);
    assert.ok(valid.checkIssued(ca) && valid.verify(ca.publicKey));
    assert.match(valid.subjectAltName ?? '', /DNS:alt\.demo\.example/);
    const expired = new X509Certificate(pki.client('expired', { cn: 'mail.demo.example', notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') }).cert);
    assert.equal(new Date(expired.validTo).getUTCFullYear(), 2021);
    const wrongCa = new X509Certificate(pki.client('wrong-ca', { cn: 'mail.demo.example', signer: 'other' }).cert);
    assert.ok(wrongCa.checkIssued(other) && !wrongCa.checkIssued(ca));
    const self = new X509Certificate(pki.selfSigned('self', { cn: 'mail.demo.example' }).cert);
    assert.ok(self.checkIssued(self));
    const wrongName = new X509Certificate(pki.client('wrong-name', { cn: 'host.elsewhere.example' }).cert);
    assert.match(wrongName.subject, /CN=host\.elsewhere\.example/);
  } finally {
    pki.cleanup();
  }
});
