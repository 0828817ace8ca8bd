import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffDirectories, parseDirectoryYaml, type Directory } from '../directory/index.js';
import { changeFindings } from './change-findings.js';

const AT = new Date('2026-12-01T12:00:00Z');

const contoso = (connectors: string, domains = '[{ domain: contoso.com }]'): Directory =>
  parseDirectoryYaml(`tenants:\n  - name: contoso\n    acceptedDomains: ${domains}\n    inboundConnectors:\n${connectors}`);

const APPS = '      - { name: apps, type: OnPremises, senderIPAddresses: [192.0.2.10/32] }\n';
const ONPREM = '      - { name: onprem, type: OnPremises, tlsSenderCertificateName: mail.contoso.com }\n';
const REFUSED = "refused now when sent to outside recipients (550 5.7.64 TenantAttribution; Relay Access Denied): null-sender bounces; mail whose envelope sender is not in contoso's accepted domains.";
const NOT_ACCEPTED = 'Certificate name mail.contoso.com is not an accepted domain of contoso: mail on this connector relays only when the envelope sender domain is accepted (add mail.contoso.com as an accepted domain).';

function findingsOf(before: Directory, after: Directory) {
  return changeFindings(before, after, diffDirectories(before, after), AT);
}

test('a certificate connector whose name is not accepted: the refusal with the finding that explains it', () => {
  assert.deepEqual(findingsOf(contoso(APPS), contoso(APPS + ONPREM)), [
    { tenant: 'contoso', findings: [{ connector: 'onprem', code: 'refused-now', text: REFUSED, because: [{ code: 'certificate-name-not-accepted', text: NOT_ACCEPTED }] }] },
  ]);
});

test('only what the change brought: the other connector\'s refusal, there before, is not repeated', () => {
  const before = contoso(APPS);
  assert.equal(findingsOf({ tenants: [] }, before)[0]!.findings[0]!.connector, 'apps', 'the IP connector refuses bounces too');
  assert.deepEqual(findingsOf(before, contoso(APPS + ONPREM)).flatMap((t) => t.findings.map((f) => f.connector)), ['onprem']);
});

test('a change that fixes a finding brings none; one that undoes the fix brings it back', () => {
  const broken = contoso(ONPREM);
  const fixed = contoso(ONPREM, '[{ domain: contoso.com }, { domain: mail.contoso.com }]');
  assert.deepEqual(findingsOf(broken, fixed), []);
  assert.deepEqual(findingsOf(fixed, broken).map((t) => t.findings.map((f) => [f.connector, f.code, f.because.map((b) => b.code)])), [
    [['onprem', 'refused-now', ['certificate-name-not-accepted']]],
  ]);
});

test('a change to one connector leaves the findings of the others out; a duplicate range is said once', () => {
  const wide = '      - { name: apps, type: OnPremises, senderIPAddresses: [10.0.0.0/8, 10.0.0.0/8] }\n';
  const before = contoso(APPS + ONPREM);
  const after = contoso(wide + ONPREM);
  assert.deepEqual(findingsOf(before, after), [
    {
      tenant: 'contoso',
      findings: [
        { connector: 'apps', code: 'exo-refuses-range', text: '10.0.0.0/8: Exchange Online accepts only single IPv4 addresses and /24 to /32 ranges; relaygate accepts it.', because: [] },
        { connector: 'apps', code: 'ip-range-wide', text: '10.0.0.0/8 is wider than /24: every host in it can relay as contoso.', because: [] },
      ],
    },
  ]);
});

test('no change, no findings; a removed tenant has none left', () => {
  const d = contoso(ONPREM);
  assert.deepEqual(findingsOf(d, d), []);
  assert.deepEqual(findingsOf(d, { tenants: [] }), []);
});
