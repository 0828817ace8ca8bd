import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDirectoryYaml } from '../directory/index.js';
import { buildSnapshot } from './snapshot.js';

const snapshot = buildSnapshot(
  parseDirectoryYaml(`
tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.example }]
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [192.0.2.0/28, "2001:db8:1::/48"] }
      - { name: old, type: OnPremises, enabled: false, senderIPAddresses: [198.51.100.0/24] }
      - { name: cert, type: OnPremises, tlsSenderCertificateName: mail.contoso.example }
  - name: fabrikam
    acceptedDomains: [{ domain: fabrikam.example }]
    inboundConnectors:
      - { name: partner, type: Partner, senderDomains: [partner.example], senderIPAddresses: [203.0.113.7/32] }
`),
);

test('an address matches a connector range when an enabled connector of any tenant or type lists it', () => {
  assert.equal(snapshot.matchesConnectorRange('192.0.2.9'), true);
  assert.equal(snapshot.matchesConnectorRange('::ffff:192.0.2.9'), true);
  assert.equal(snapshot.matchesConnectorRange('2001:db8:1:ff::1'), true);
  assert.equal(snapshot.matchesConnectorRange('203.0.113.7'), true, 'a partner connector counts');
  assert.equal(snapshot.matchesConnectorRange('192.0.2.16'), false);
  assert.equal(snapshot.matchesConnectorRange('198.51.100.1'), false, 'a disabled connector does not');
  assert.equal(snapshot.matchesConnectorRange('not-an-ip'), false);
});
