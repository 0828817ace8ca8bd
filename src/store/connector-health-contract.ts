/**
 * The ConnectorHealthStore contract: every adapter runs these tests against a real database
 * (sqlite/connector-health-store.test.ts, postgres/connector-health-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateSighting, ConnectorHealthStore, DirectoryStore, SeenCertificate } from './ports.js';

export interface OpenedConnectorHealthStore {
  store: ConnectorHealthStore;
  /** The directory of the same database: the history refers to its tenants. */
  directory: DirectoryStore;
  /** Another connection to the same database (what a second node would use). */
  second(): Promise<ConnectorHealthStore>;
  close(): Promise<void>;
  reopen(): Promise<OpenedConnectorHealthStore>;
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);

const CERT: SeenCertificate = {
  fingerprint: 'AA:BB:CC',
  subject: 'CN=mail.contoso.com\nO=Contoso',
  names: ['mail.contoso.com', 'relay.contoso.com'],
  issuer: 'CN=Test CA',
  notBefore: T0 - 300 * 24 * HOUR,
  notAfter: T0 + 20 * 24 * HOUR,
  trusted: true,
};

async function contoso(directory: DirectoryStore): Promise<string> {
  await directory.addTenant({ name: 'contoso', acceptedDomains: [{ domain: 'contoso.com' }], inboundConnectors: [{ name: 'OnPrem', type: 'OnPremises', tlsSenderCertificateName: 'mail.contoso.com' }] });
  return (await directory.load()).tenants[0]!.id;
}

function sighting(tenantId: string, over: Partial<CertificateSighting> = {}): CertificateSighting {
  return { tenantId, connector: 'OnPrem', ...CERT, firstSeen: T0, lastSeen: T0, seen: 1, nullSenders: 0, foreignSenders: 0, ...over };
}

export function connectorHealthStoreContract(adapter: string, open: () => Promise<OpenedConnectorHealthStore>): void {
  const withStore = (name: string, fn: (o: OpenedConnectorHealthStore) => Promise<void>): void => {
    test(`${adapter} connector health store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('nothing recorded reads as nothing', async ({ store }) => {
    assert.deepEqual(await store.read(), []);
  });

  withStore('batches add up: counts summed, first sighting earliest, last sighting latest, in any order', async ({ store, directory }) => {
    const id = await contoso(directory);
    await store.record({
      traffic: [{ tenantId: id, connector: 'OnPrem', day: '2026-12-01', accepted: 2, refused: 1, lastSeen: T0 + 2 * HOUR }],
      certificates: [sighting(id, { firstSeen: T0 + HOUR, lastSeen: T0 + 2 * HOUR, seen: 3, nullSenders: 1 })],
      sources: [{ tenantId: id, connector: 'OnPrem', ip: '192.0.2.1', firstSeen: T0 + HOUR, lastSeen: T0 + 2 * HOUR, seen: 3 }],
    });
    // An older batch (another node's, flushed later) and a newer one on the next day.
    await store.record({
      traffic: [
        { tenantId: id, connector: 'onprem', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 },
        { tenantId: id, connector: 'ONPREM', day: '2026-12-02', accepted: 0, refused: 4, lastSeen: T0 + 24 * HOUR },
      ],
      certificates: [sighting(id, { connector: 'onprem', firstSeen: T0, lastSeen: T0, seen: 1, foreignSenders: 1 })],
      sources: [
        { tenantId: id, connector: 'onprem', ip: '192.0.2.1', firstSeen: T0, lastSeen: T0, seen: 1 },
        { tenantId: id, connector: 'onprem', ip: '2001:db8::1', firstSeen: T0 + 3 * HOUR, lastSeen: T0 + 3 * HOUR, seen: 1 },
      ],
    });
    assert.deepEqual(await store.read(), [
      {
        tenantId: id,
        connector: 'onprem',
        days: [
          { day: '2026-12-02', accepted: 0, refused: 4, lastSeen: T0 + 24 * HOUR },
          { day: '2026-12-01', accepted: 3, refused: 1, lastSeen: T0 + 2 * HOUR },
        ],
        certificates: [{ ...CERT, firstSeen: T0, lastSeen: T0 + 2 * HOUR, seen: 4, nullSenders: 1, foreignSenders: 1 }],
        sources: [
          { ip: '2001:db8::1', firstSeen: T0 + 3 * HOUR, lastSeen: T0 + 3 * HOUR, seen: 1 },
          { ip: '192.0.2.1', firstSeen: T0, lastSeen: T0 + 2 * HOUR, seen: 4 },
        ],
      },
    ]);
  });

  withStore('certificates are listed oldest first sighting first; a certificate without dates keeps nulls', async ({ store, directory }) => {
    const id = await contoso(directory);
    const renewed = { fingerprint: 'DD:EE:FF', names: ['mail2.contoso.com'], subject: 'CN=mail2.contoso.com', notBefore: null, notAfter: null, trusted: false };
    await store.record({ traffic: [], sources: [], certificates: [sighting(id, { ...renewed, firstSeen: T0 + 5 * HOUR, lastSeen: T0 + 5 * HOUR }), sighting(id)] });
    const [history] = await store.read({ tenantId: id });
    assert.deepEqual(history!.certificates.map((c) => [c.fingerprint, c.names, c.notAfter, c.trusted]), [
      ['AA:BB:CC', ['mail.contoso.com', 'relay.contoso.com'], CERT.notAfter, true],
      ['DD:EE:FF', ['mail2.contoso.com'], null, false],
    ]);
  });

  withStore('read filters by tenant and by day', async ({ store, directory }) => {
    const id = await contoso(directory);
    await directory.addTenant({ name: 'fabrikam', acceptedDomains: [{ domain: 'fabrikam.com' }], inboundConnectors: [{ name: 'apps', type: 'OnPremises', senderIPAddresses: ['192.0.2.0/24'] }] });
    const other = (await directory.load()).tenants.find((t) => t.name === 'fabrikam')!.id;
    await store.record({
      traffic: [
        { tenantId: id, connector: 'onprem', day: '2026-11-01', accepted: 1, refused: 0, lastSeen: T0 - 30 * 24 * HOUR },
        { tenantId: id, connector: 'onprem', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 },
        { tenantId: other, connector: 'apps', day: '2026-12-01', accepted: 5, refused: 0, lastSeen: T0 },
      ],
      certificates: [],
      sources: [],
    });
    assert.deepEqual((await store.read({ tenantId: other })).map((h) => [h.connector, h.days.length]), [['apps', 1]]);
    assert.deepEqual((await store.read({ tenantId: id, since: '2026-11-15' }))[0]!.days.map((d) => d.day), ['2026-12-01']);
    assert.equal((await store.read()).length, 2);
  });

  withStore('rows of a tenant that is gone are dropped; removing a tenant removes its history', async ({ store, directory }) => {
    const id = await contoso(directory);
    await store.record({ traffic: [{ tenantId: id, connector: 'onprem', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 }], certificates: [sighting(id)], sources: [] });
    await store.record({
      traffic: [{ tenantId: '01J00000000000000000000000', connector: 'x', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 }],
      certificates: [sighting('01J00000000000000000000000')],
      sources: [{ tenantId: '01J00000000000000000000000', connector: 'x', ip: '192.0.2.9', firstSeen: T0, lastSeen: T0, seen: 1 }],
    });
    assert.deepEqual((await store.read()).map((h) => h.tenantId), [id]);
    await directory.removeTenant('contoso');
    assert.deepEqual(await store.read(), []);
  });

  withStore('a rename keeps the history: it is the tenant id that counts', async ({ store, directory }) => {
    const id = await contoso(directory);
    await store.record({ traffic: [{ tenantId: id, connector: 'onprem', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 }], certificates: [], sources: [] });
    const dir = await directory.load();
    await directory.replace({ tenants: [{ ...dir.tenants[0]!, name: 'contoso-renamed', id }] });
    assert.equal((await directory.load()).tenants[0]!.name, 'contoso-renamed');
    assert.deepEqual((await store.read({ tenantId: id }))[0]!.days.length, 1);
  });

  withStore('two connections recording at once lose no count', async (o) => {
    const id = await contoso(o.directory);
    const other = await o.second();
    const one = (n: number) => ({
      traffic: [{ tenantId: id, connector: 'onprem', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 + n }],
      certificates: [sighting(id, { lastSeen: T0 + n })],
      sources: [{ tenantId: id, connector: 'onprem', ip: '192.0.2.1', firstSeen: T0 + n, lastSeen: T0 + n, seen: 1 }],
    });
    await Promise.all(Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? o.store : other).record(one(n))));
    const [h] = await o.store.read();
    assert.deepEqual([h!.days[0]!.accepted, h!.days[0]!.lastSeen, h!.certificates[0]!.seen, h!.certificates[0]!.lastSeen, h!.sources[0]!.seen, h!.sources[0]!.firstSeen], [20, T0 + 19, 20, T0 + 19, 20, T0]);
  });

  withStore('prune forgets old days and what was last seen long ago, and keeps the rest across a reopen', async (o) => {
    const id = await contoso(o.directory);
    await o.store.record({
      traffic: [
        { tenantId: id, connector: 'onprem', day: '2026-10-01', accepted: 1, refused: 0, lastSeen: T0 - 61 * 24 * HOUR },
        { tenantId: id, connector: 'onprem', day: '2026-12-01', accepted: 1, refused: 0, lastSeen: T0 },
      ],
      certificates: [sighting(id, { fingerprint: 'OLD', lastSeen: T0 - 61 * 24 * HOUR, firstSeen: T0 - 61 * 24 * HOUR }), sighting(id)],
      sources: [
        { tenantId: id, connector: 'onprem', ip: '192.0.2.1', firstSeen: T0 - 61 * 24 * HOUR, lastSeen: T0 - 61 * 24 * HOUR, seen: 1 },
        { tenantId: id, connector: 'onprem', ip: '192.0.2.2', firstSeen: T0, lastSeen: T0, seen: 1 },
      ],
    });
    assert.equal(await o.store.prune('2026-11-01', T0 - 30 * 24 * HOUR), 3);
    assert.equal(await o.store.prune('2026-11-01', T0 - 30 * 24 * HOUR), 0);
    await o.close();
    const again = await o.reopen();
    try {
      const [h] = await again.store.read();
      assert.deepEqual([h!.days.map((d) => d.day), h!.certificates.map((c) => c.fingerprint), h!.sources.map((s) => s.ip)], [['2026-12-01'], ['AA:BB:CC'], ['192.0.2.2']]);
    } finally {
      await again.close();
    }
  });
}
