/**
 * The TenantSettingsStore contract: every adapter runs these tests against a real database, with
 * the directory store of the same adapter holding the tenants the settings belong to
 * (sqlite/tenant-settings-store.test.ts; the PostgreSQL adapter adds its own caller).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDirectory, type StoredTenant } from '../directory/index.js';
import { defaultSrsSetting, type DirectoryStore, type Route, type StoredDkimKey, type TenantSettingsStore } from './ports.js';

export interface OpenedTenantSettings {
  directory: DirectoryStore;
  settings: TenantSettingsStore;
  close(): Promise<void>;
  /** The same database through a new connection (durability). */
  reopen(): Promise<OpenedTenantSettings>;
}

const route = (host: string, domains: string[], extra: Partial<Route> = {}): Route => ({ domains, host, port: 25, tls: 'opportunistic', auth: null, clientCert: null, ...extra });

function key(tenantId: string, domain: string, selector: string, createdAt: number): StoredDkimKey {
  return { tenantId, domain, selector, algorithm: 'ed25519', privateKey: `private ${selector}`, publicKey: `public ${selector}`, active: true, createdAt };
}

/** contoso and fabrikam in the directory, with their ids. */
async function twoTenants(directory: DirectoryStore): Promise<[StoredTenant, StoredTenant]> {
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso', acceptedDomains: [{ domain: 'contoso.example' }] }, { name: 'fabrikam' }] }));
  const [contoso, fabrikam] = (await directory.load()).tenants;
  return [contoso!, fabrikam!];
}

export function tenantSettingsContract(adapter: string, open: () => Promise<OpenedTenantSettings>): void {
  const withStore = (name: string, fn: (o: OpenedTenantSettings) => Promise<void>): void => {
    test(`${adapter} tenant settings: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('start empty at revision 0, with the defaults', async ({ directory, settings }) => {
    const [contoso] = await twoTenants(directory);
    assert.equal(await settings.revision(), 0);
    assert.deepEqual(await settings.read(), { revision: 0, dkimKeys: [], routes: [], srs: [], dailyLimits: [], relayedHeaders: [] });
    assert.deepEqual(await settings.srsSetting(contoso.id), defaultSrsSetting);
    assert.equal(await settings.dailyLimit(contoso.id), null);
    assert.equal(await settings.keepsRelayedHeaders(contoso.id), false, 'relayed mail goes without our fields unless the tenant chose');
    assert.deepEqual(await settings.dkimKeys(), []);
    assert.deepEqual(await settings.routes(contoso.id), []);
  });

  withStore('DKIM keys: added, replaced by domain and selector, listed without private keys', async ({ directory, settings }) => {
    const [contoso, fabrikam] = await twoTenants(directory);
    await settings.putDkimKey(key(contoso.id, 'contoso.example', 's1', 1000));
    await settings.putDkimKey(key(contoso.id, 'contoso.example', 's2', 2000));
    await settings.putDkimKey(key(fabrikam.id, 'fabrikam.example', 's1', 1500));
    await settings.putDkimKey({ ...key(contoso.id, 'contoso.example', 's1', 3000), publicKey: 'public s1 again' });
    const listed = await settings.dkimKeys(contoso.id);
    assert.deepEqual(listed.map((k) => [k.selector, k.publicKey, k.createdAt, 'privateKey' in k]), [['s1', 'public s1 again', 3000, false], ['s2', 'public s2', 2000, false]]);
    assert.equal((await settings.dkimKeys()).length, 3);
    const state = await settings.read();
    assert.deepEqual(
      state.dkimKeys.filter((k) => k.tenantId === contoso.id).map((k) => [k.selector, k.privateKey, k.active]).sort(),
      [['s1', 'private s1', true], ['s2', 'private s2', true]],
    );
    assert.equal(state.revision, await settings.revision());
  });

  withStore('routes: ids grow, each tenant lists its own in id order, removal returns the route', async ({ directory, settings }) => {
    const [contoso, fabrikam] = await twoTenants(directory);
    const a = await settings.addRoute(contoso.id, route('a.example', ['x.example'], { tls: 'required', auth: { user: 'u', pass: 'p' } }));
    const b = await settings.addRoute(fabrikam.id, route('b.example', ['*']));
    const c = await settings.addRoute(contoso.id, route('c.example', ['*.y.example'], { port: 587, clientCert: { cert: 'CERT', key: 'KEY' } }));
    assert.ok(a.id < b.id && b.id < c.id);
    assert.deepEqual(a, { id: a.id, tenantId: contoso.id, route: route('a.example', ['x.example'], { tls: 'required', auth: { user: 'u', pass: 'p' } }) });
    assert.deepEqual((await settings.routes(contoso.id)).map((r) => r.route.host), ['a.example', 'c.example']);
    assert.deepEqual((await settings.routes()).map((r) => r.id), [a.id, b.id, c.id]);
    assert.deepEqual((await settings.routes(contoso.id))[1]!.route.clientCert, { cert: 'CERT', key: 'KEY' });
    assert.equal(await settings.removeRoute(fabrikam.id, a.id), null, "another tenant's route is not removed");
    assert.equal(await settings.removeRoute(contoso.id, 999_999), null);
    assert.deepEqual(await settings.removeRoute(contoso.id, a.id), a);
    assert.deepEqual((await settings.read()).routes.map((r) => r.id), [b.id, c.id]);
  });

  withStore('SRS settings and daily limits are per tenant; null sets unlimited', async ({ directory, settings }) => {
    const [contoso, fabrikam] = await twoTenants(directory);
    await settings.setSrsSetting(contoso.id, { enabled: false, rewriteDomain: 'bounces.contoso.example' });
    await settings.setSrsSetting(contoso.id, { enabled: true, rewriteDomain: 'srs.contoso.example' });
    await settings.setDailyLimit(contoso.id, 0);
    await settings.setDailyLimit(fabrikam.id, 500);
    await settings.setDailyLimit(fabrikam.id, null);
    assert.deepEqual(await settings.srsSetting(contoso.id), { enabled: true, rewriteDomain: 'srs.contoso.example' });
    assert.deepEqual(await settings.srsSetting(fabrikam.id), defaultSrsSetting);
    assert.equal(await settings.dailyLimit(contoso.id), 0);
    assert.equal(await settings.dailyLimit(fabrikam.id), null);
    const state = await settings.read();
    assert.deepEqual(state.srs, [{ tenantId: contoso.id, setting: { enabled: true, rewriteDomain: 'srs.contoso.example' } }]);
    assert.deepEqual(
      [...state.dailyLimits].sort((x, y) => (x.tenantId < y.tenantId ? -1 : 1)),
      [{ tenantId: contoso.id, dailyRecipients: 0 }, { tenantId: fabrikam.id, dailyRecipients: null }].sort((x, y) => (x.tenantId < y.tenantId ? -1 : 1)),
    );
  });

  withStore('the relayed-headers choice is per tenant, and can be taken back', async ({ directory, settings }) => {
    const [contoso, fabrikam] = await twoTenants(directory);
    await settings.setRelayedHeaders(contoso.id, true);
    await settings.setRelayedHeaders(fabrikam.id, true);
    await settings.setRelayedHeaders(fabrikam.id, false);
    assert.equal(await settings.keepsRelayedHeaders(contoso.id), true);
    assert.equal(await settings.keepsRelayedHeaders(fabrikam.id), false);
    assert.deepEqual(
      [...(await settings.read()).relayedHeaders].sort((x, y) => (x.tenantId < y.tenantId ? -1 : 1)),
      [{ tenantId: contoso.id, keep: true }, { tenantId: fabrikam.id, keep: false }].sort((x, y) => (x.tenantId < y.tenantId ? -1 : 1)),
    );
  });

  withStore('every change makes the revision grow; reads do not', async ({ directory, settings }) => {
    const [contoso] = await twoTenants(directory);
    const seen = [await settings.revision()];
    const step = async (change: Promise<unknown>): Promise<void> => {
      await change;
      seen.push(await settings.revision());
    };
    await step(settings.putDkimKey(key(contoso.id, 'contoso.example', 's1', 1)));
    const added = await settings.addRoute(contoso.id, route('a.example', ['*']));
    seen.push(await settings.revision());
    await step(settings.removeRoute(contoso.id, added.id));
    await step(settings.setSrsSetting(contoso.id, { enabled: false, rewriteDomain: null }));
    await step(settings.setDailyLimit(contoso.id, 5));
    await step(settings.setRelayedHeaders(contoso.id, true));
    await step(settings.setRelayedHeaders(contoso.id, false));
    await step(settings.read());
    for (let i = 1; i < seen.length - 1; i++) assert.ok(seen[i]! > seen[i - 1]!, `revision after change ${i}: ${seen.join(', ')}`);
    assert.equal(seen.at(-1), seen.at(-2), 'reading changes nothing');
  });

  withStore('ifRevision: every write applies at the current settings revision and is stale-revision at an older one, changing nothing', async ({ directory, settings }) => {
    const [contoso] = await twoTenants(directory);
    const r0 = await settings.revision();
    await settings.setDailyLimit(contoso.id, 10, { ifRevision: r0 });
    const r1 = await settings.revision();
    assert.ok(r1 > r0);
    const stale = { code: 'stale-revision', message: `the tenant settings are at revision ${r1}, not ${r0}: read them again and retry` };
    await assert.rejects(settings.putDkimKey(key(contoso.id, 'contoso.example', 's1', 1), { ifRevision: r0 }), stale);
    await assert.rejects(settings.addRoute(contoso.id, route('smart.example', ['*']), { ifRevision: r0 }), stale);
    await assert.rejects(settings.setSrsSetting(contoso.id, { enabled: false, rewriteDomain: null }, { ifRevision: r0 }), stale);
    await assert.rejects(settings.setDailyLimit(contoso.id, 99, { ifRevision: r0 }), stale);
    await assert.rejects(settings.setRelayedHeaders(contoso.id, true, { ifRevision: r0 }), stale);
    const added = await settings.addRoute(contoso.id, route('smart.example', ['*']), { ifRevision: r1 });
    const r2 = await settings.revision();
    await assert.rejects(settings.removeRoute(contoso.id, added.id, { ifRevision: r1 }), { code: 'stale-revision' });
    assert.equal(await settings.revision(), r2);
    assert.equal(await settings.dailyLimit(contoso.id), 10);
    assert.deepEqual(await settings.dkimKeys(contoso.id), []);
    assert.equal((await settings.srsSetting(contoso.id)).enabled, true);
    assert.equal(await settings.keepsRelayedHeaders(contoso.id), false);
    assert.equal((await settings.routes(contoso.id)).length, 1);
    assert.deepEqual(await settings.removeRoute(contoso.id, added.id, { ifRevision: r2 }), added);
  });

  withStore('ifRevision: of two writers at the same settings revision exactly one wins', async ({ directory, settings }) => {
    const [contoso] = await twoTenants(directory);
    const r = await settings.revision();
    const results = await Promise.allSettled([settings.setDailyLimit(contoso.id, 1, { ifRevision: r }), settings.setDailyLimit(contoso.id, 2, { ifRevision: r })]);
    assert.deepEqual(results.map((x) => x.status).sort(), ['fulfilled', 'rejected']);
    assert.equal(((results.find((x) => x.status === 'rejected') as PromiseRejectedResult).reason as { code: string }).code, 'stale-revision');
  });

  withStore('settings for a tenant id the directory does not have are refused and change nothing', async ({ directory, settings }) => {
    await twoTenants(directory);
    const ghost = '01KDVDNA00ZZZZZZZZZZZZZZZZ';
    await assert.rejects(settings.putDkimKey(key(ghost, 'ghost.example', 's1', 1)));
    await assert.rejects(settings.addRoute(ghost, route('a.example', ['*'])));
    await assert.rejects(settings.setSrsSetting(ghost, { enabled: false, rewriteDomain: null }));
    await assert.rejects(settings.setDailyLimit(ghost, 1));
    await assert.rejects(settings.setRelayedHeaders(ghost, true));
    assert.deepEqual(await settings.read(), { revision: 0, dkimKeys: [], routes: [], srs: [], dailyLimits: [], relayedHeaders: [] });
  });

  withStore('a renamed tenant keeps its settings; a removed one takes them along, and the revision grows', async ({ directory, settings }) => {
    const [contoso, fabrikam] = await twoTenants(directory);
    await settings.putDkimKey(key(contoso.id, 'contoso.example', 's1', 1));
    await settings.addRoute(contoso.id, route('a.example', ['*']));
    await settings.setSrsSetting(contoso.id, { enabled: false, rewriteDomain: null });
    await settings.setDailyLimit(contoso.id, 7);
    await settings.setDailyLimit(fabrikam.id, 9);
    await settings.setRelayedHeaders(contoso.id, true);
    const before = await settings.read();
    const current = await directory.load();
    // By case through an edit-free replace, then by name keeping the id.
    await directory.replace({ tenants: current.tenants.map((t) => (t.id === contoso.id ? { ...t, name: 'CONTOSO' } : t)) });
    await directory.replace({ tenants: current.tenants.map((t) => (t.id === contoso.id ? { ...t, name: 'northwind' } : t)) });
    assert.deepEqual((await directory.load()).tenants.map((t) => [t.name, t.id]), [['northwind', contoso.id], ['fabrikam', fabrikam.id]]);
    assert.deepEqual(await settings.read(), before, 'renames change no setting');
    await directory.removeTenant('northwind');
    const after = await settings.read();
    assert.ok(after.revision > before.revision);
    assert.deepEqual({ ...after, revision: 0 }, { revision: 0, dkimKeys: [], routes: [], srs: [], dailyLimits: [{ tenantId: fabrikam.id, dailyRecipients: 9 }], relayedHeaders: [] });
  });

  withStore('what was written is there after reopening', async (o) => {
    const [contoso] = await twoTenants(o.directory);
    await o.settings.putDkimKey(key(contoso.id, 'contoso.example', 's1', 1));
    await o.settings.setDailyLimit(contoso.id, 3);
    await o.settings.setRelayedHeaders(contoso.id, true);
    const before = await o.settings.read();
    await o.close();
    const again = await o.reopen();
    try {
      assert.deepEqual(await again.settings.read(), before);
    } finally {
      await again.close();
    }
  });
}
