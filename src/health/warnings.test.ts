import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDirectoryYaml } from '../directory/index.js';
import { buildSnapshot } from '../policy/index.js';
import type { ConnectorHealthHistory } from '../store/ports.js';
import { connectorWarnings, type HealthWarningCode } from './warnings.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const directory = parseDirectoryYaml(`
tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.com }, { domain: mail.contoso.com }]
    inboundConnectors:
      - { name: onprem, type: OnPremises, tlsSenderCertificateName: mail.contoso.com }
      - { name: apps, type: OnPremises, senderIPAddresses: [192.0.2.0/24] }
      - { name: old, type: OnPremises, senderIPAddresses: [198.51.100.1/32], enabled: false }
      - { name: devices, type: OnPremises, tlsSenderCertificateName: scan.devices.example }
`);
const snapshot = buildSnapshot(directory);
const tenant = directory.tenants[0]!;

type Cert = ConnectorHealthHistory['certificates'][number];
const cert = (over: Partial<Cert> = {}): Cert => ({
  fingerprint: 'AA', subject: 'CN=mail.contoso.com', names: ['mail.contoso.com'], issuer: 'CN=CA', notBefore: NOW - 300 * DAY, notAfter: NOW + 200 * DAY,
  trusted: true, firstSeen: NOW - 100 * DAY, lastSeen: NOW - DAY, seen: 10, nullSenders: 0, foreignSenders: 0, ...over,
});
const history = (connector: string, over: Partial<ConnectorHealthHistory> = {}): ConnectorHealthHistory => ({
  tenantId: 'T', connector, days: [{ day: '2026-11-30', accepted: 1, refused: 0, lastSeen: NOW - DAY }], certificates: [], sources: [], ...over,
});

const cases: Array<{ name: string; connector: string; history?: ConnectorHealthHistory; at?: number; codes: HealthWarningCode[] }> = [
  { name: 'a healthy certificate connector', connector: 'onprem', history: history('onprem', { certificates: [cert()] }), codes: [] },
  { name: 'nothing recorded: no warning (nothing to compare with)', connector: 'apps', codes: [] },
  { name: 'the certificate in use expires in 29 days', connector: 'onprem', history: history('onprem', { certificates: [cert({ notAfter: NOW + 29 * DAY })] }), codes: ['certificate-expiring'] },
  { name: 'the certificate in use expires in 31 days', connector: 'onprem', history: history('onprem', { certificates: [cert({ notAfter: NOW + 31 * DAY })] }), codes: [] },
  { name: 'the certificate in use has expired', connector: 'onprem', history: history('onprem', { certificates: [cert({ notAfter: NOW - DAY })] }), codes: ['certificate-expired'] },
  {
    name: 'an old certificate expiring is not the one in use',
    connector: 'onprem',
    history: history('onprem', { certificates: [cert({ fingerprint: 'OLD', notAfter: NOW + 5 * DAY, lastSeen: NOW - 20 * DAY }), cert({ firstSeen: NOW - 20 * DAY })] }),
    codes: [],
  },
  {
    name: 'a renewal with the same names',
    connector: 'onprem',
    history: history('onprem', { certificates: [cert({ fingerprint: 'OLD', lastSeen: NOW - 10 * DAY }), cert({ firstSeen: NOW - 10 * DAY })] }),
    codes: [],
  },
  {
    name: 'a renewal with other names',
    connector: 'onprem',
    history: history('onprem', { certificates: [cert({ fingerprint: 'OLD', lastSeen: NOW - 10 * DAY }), cert({ names: ['smtp.contoso.com'], firstSeen: NOW - 10 * DAY })] }),
    codes: ['certificate-renamed'],
  },
  {
    name: 'a renewal with other names long ago is not new any more',
    connector: 'onprem',
    history: history('onprem', { certificates: [cert({ fingerprint: 'OLD', lastSeen: NOW - 40 * DAY }), cert({ names: ['mail.contoso.com', 'x.contoso.com'], firstSeen: NOW - 40 * DAY })] }),
    codes: [],
  },
  { name: 'bounces on a certificate name that is not accepted', connector: 'devices', history: history('devices', { certificates: [cert({ names: ['scan.devices.example'], nullSenders: 2 })] }), codes: ['certificate-name-not-accepted'] },
  { name: 'foreign senders on it', connector: 'devices', history: history('devices', { certificates: [cert({ names: ['scan.devices.example'], foreignSenders: 1 })] }), codes: ['certificate-name-not-accepted'] },
  { name: 'only accepted senders on it: nothing refused, no warning', connector: 'devices', history: history('devices', { certificates: [cert({ names: ['scan.devices.example'] })] }), codes: [] },
  { name: 'bounces on an accepted certificate name', connector: 'onprem', history: history('onprem', { certificates: [cert({ nullSenders: 5 })] }), codes: [] },
  { name: 'silent for 7 days', connector: 'apps', history: history('apps', { days: [{ day: '2026-11-24', accepted: 3, refused: 0, lastSeen: NOW - 7 * DAY }] }), codes: ['no-traffic'] },
  { name: 'silent for 6 days', connector: 'apps', history: history('apps', { days: [{ day: '2026-11-25', accepted: 3, refused: 0, lastSeen: NOW - 6 * DAY }] }), codes: [] },
  { name: 'a disabled connector is expected to be silent', connector: 'old', history: history('old', { days: [{ day: '2026-10-01', accepted: 3, refused: 0, lastSeen: NOW - 60 * DAY }] }), codes: [] },
];

for (const c of cases) {
  test(`connector health warnings: ${c.name}`, () => {
    const connector = tenant.inboundConnectors.find((x) => x.name === c.connector)!;
    assert.deepEqual(connectorWarnings(snapshot, tenant, connector, c.history, new Date(c.at ?? NOW)).map((w) => w.code), c.codes);
  });
}

test('the warnings name what they are about', () => {
  const onprem = tenant.inboundConnectors[0]!;
  const renamed = history('onprem', { certificates: [cert({ fingerprint: 'OLD', lastSeen: NOW - 10 * DAY }), cert({ fingerprint: 'NEW', names: ['mail.contoso.com', 'smtp.contoso.com'], firstSeen: NOW - 10 * DAY, notAfter: NOW + 3 * DAY + 1 })] });
  assert.deepEqual(connectorWarnings(snapshot, tenant, onprem, renamed, new Date(NOW)), [
    { tenant: 'contoso', connector: 'onprem', code: 'certificate-expiring', fingerprint: 'NEW', message: 'the certificate in use (mail.contoso.com, smtp.contoso.com) expires on 2026-12-04T12:00:00.001Z, in 4 days: renew it, with the same names.' },
    { tenant: 'contoso', connector: 'onprem', code: 'certificate-renamed', fingerprint: 'NEW', message: 'a new certificate (first seen 2026-11-21T12:00:00.000Z) is named mail.contoso.com, smtp.contoso.com, the one before it mail.contoso.com: it still matches the connector.' },
  ]);
});
