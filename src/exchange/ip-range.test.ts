import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { commonName, parseCertificateName } from './certificate-name.js';
import { ipRangeToCidrs, rangeToCidrs } from './ip-range.js';

describe('Exchange IPRange to CIDR', () => {
  it('splits low-high ranges into the fewest exact CIDR blocks, IPv4 and IPv6', () => {
    assert.deepEqual(rangeToCidrs('203.0.113.0', '203.0.113.255'), ['203.0.113.0/24']);
    assert.deepEqual(rangeToCidrs('203.0.113.5', '203.0.113.5'), ['203.0.113.5']);
    assert.deepEqual(rangeToCidrs('203.0.113.1', '203.0.113.6'), ['203.0.113.1', '203.0.113.2/31', '203.0.113.4/31', '203.0.113.6']);
    assert.deepEqual(rangeToCidrs('0.0.0.0', '255.255.255.255'), ['0.0.0.0/0']);
    assert.deepEqual(rangeToCidrs('2001:db8::', '2001:db8::ffff'), ['2001:db8::/112']);
    assert.deepEqual(rangeToCidrs('2001:db8::1', '2001:db8::2'), ['2001:db8::1', '2001:db8::2']);
  });

  it('refuses inverted and mixed-family ranges, and text that is no address', () => {
    assert.equal(rangeToCidrs('203.0.113.9', '203.0.113.1'), null);
    assert.equal(rangeToCidrs('203.0.113.1', '2001:db8::1'), null);
    for (const bad of ['203.0.113', '203.0.113.0/33', '2001:db8::/129', '0x7f.1', 'fe80::1%eth0', '203.0.113.1/', '']) {
      assert.equal(ipRangeToCidrs(bad), null, bad);
    }
    assert.equal(ipRangeToCidrs(42), null);
  });
});

describe('Exchange TlsSenderCertificateName', () => {
  it('takes the CN of a DN, quoted or not, and never an OU or O that ends in CN', () => {
    assert.equal(commonName('CN=mail.contoso.com, OU=IT, O=Contoso'), 'mail.contoso.com');
    assert.equal(commonName('O=Contoso, CN="relay.contoso.com"'), 'relay.contoso.com');
    assert.equal(commonName('OU=ACN=x, O=Contoso'), null);
    assert.deepEqual(parseCertificateName('<I>CN=CA<S>CN=a.contoso.com'), { name: 'a.contoso.com', issuer: 'CN=CA' });
    assert.deepEqual(parseCertificateName(''), null);
    assert.deepEqual(parseCertificateName('<I>CN=CA only'), { error: 'an "<I>issuer" without "<S>subject"' });
    assert.deepEqual(parseCertificateName(7), { error: 'expected a host name or "<I>issuer<S>subject"' });
  });
});
