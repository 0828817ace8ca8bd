/**
 * The DirectoryStore contract: every adapter runs these tests against a real database
 * (sqlite/directory-store.test.ts; the PostgreSQL adapter adds its own caller).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  demoDirectory,
  DirectoryEditError,
  DirectoryValidationError,
  formatChange,
  parseDirectoryYaml,
  serializeDirectoryYaml,
  validateDirectory,
} from '../directory/index.js';
import type { DirectoryStore } from './ports.js';

export interface OpenedDirectoryStore {
  store: DirectoryStore;
  /** Closes the store; `reopen` opens the same database again (durability). */
  close(): Promise<void>;
  reopen(): Promise<OpenedDirectoryStore>;
}

export function directoryStoreContract(adapter: string, open: () => Promise<OpenedDirectoryStore>): void {
  const withStore = (name: string, fn: (o: OpenedDirectoryStore) => Promise<void>): void => {
    test(`${adapter} directory store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('starts empty at revision 0', async ({ store }) => {
    assert.deepEqual(await store.load(), { tenants: [] });
    assert.equal(await store.revision(), 0);
  });

  withStore('replace stores the directory; a second replace has no changes and keeps the revision', async (o) => {
    const first = await o.store.replace(demoDirectory);
    assert.deepEqual(first.map(formatChange), [
      '+ tenant demo',
      '+ accepted domain demo/demo.example',
      '+ accepted domain demo/apps.demo.example',
      '+ accepted domain demo/mail.demo.example',
      '+ connector demo/loopback',
      '+ connector demo/certificate',
      '+ tenant fabrikam',
      '+ accepted domain fabrikam/fabrikam.example',
      '+ connector fabrikam/partner',
    ]);
    assert.deepEqual(await o.store.load(), demoDirectory);
    assert.equal(await o.store.revision(), 1);
    assert.deepEqual(await o.store.replace(demoDirectory), []);
    assert.equal(await o.store.revision(), 1);
    await o.close();
    const again = await o.reopen();
    try {
      assert.equal(serializeDirectoryYaml(await again.store.load()), serializeDirectoryYaml(demoDirectory));
      assert.equal(await again.store.revision(), 1);
    } finally {
      await again.close();
    }
  });

  withStore('a dry run reports the changes and writes nothing', async ({ store }) => {
    await store.replace(demoDirectory);
    const next = parseDirectoryYaml(serializeDirectoryYaml(demoDirectory).replace('rejectDirectSend: true', 'rejectDirectSend: false'));
    const changes = await store.replace(next, { dryRun: true });
    assert.deepEqual(changes.map(formatChange), ['~ tenant fabrikam: rejectDirectSend true → false']);
    assert.deepEqual(await store.load(), demoDirectory);
    assert.equal(await store.revision(), 1);
    assert.deepEqual((await store.replace(next)).map(formatChange), ['~ tenant fabrikam: rejectDirectSend true → false']);
    assert.equal(await store.revision(), 2);
    assert.equal((await store.load()).tenants[1]!.rejectDirectSend, false);
  });

  withStore('replace with an empty directory removes everything', async ({ store }) => {
    await store.replace(demoDirectory);
    const changes = await store.replace({ tenants: [] });
    assert.equal(changes.filter((c) => c.action === 'remove' && c.entity === 'tenant').length, 2);
    assert.deepEqual(await store.load(), { tenants: [] });
  });

  withStore('an invalid directory is refused and nothing changes', async ({ store }) => {
    await store.replace(demoDirectory);
    const { id: _fabrikamId, ...fabrikam } = demoDirectory.tenants[1]!;
    const bad = {
      tenants: [...demoDirectory.tenants, { ...fabrikam, name: 'copy' }],
    };
    await assert.rejects(store.replace(bad), (err: unknown) => {
      assert.ok(err instanceof DirectoryValidationError);
      assert.deepEqual(err.lines, [
        'tenant copy, accepted domain fabrikam.example: domain: fabrikam.example is already an accepted domain of tenant fabrikam',
      ]);
      return true;
    });
    assert.deepEqual(await store.load(), demoDirectory);
    assert.equal(await store.revision(), 1);
  });

  withStore('fine-grained edits change one thing each and bump the revision', async ({ store }) => {
    await store.replace(demoDirectory);
    const r0 = await store.revision();
    const log: string[] = [];
    const run = async (p: Promise<import('../directory/index.js').DirectoryChange[]>): Promise<void> => {
      log.push(...(await p).map(formatChange));
    };
    await run(store.addTenant({ name: 'contoso' }));
    await run(store.updateTenant('contoso', { relayRuleSet: 'legacy' }));
    await run(store.addDomain('contoso', { domain: 'Contoso.com' }));
    await run(store.addConnector('contoso', { name: 'app', type: 'OnPremises', senderIPAddresses: ['203.0.113.7'] }));
    await run(store.updateConnector('contoso', 'app', { requireTls: true }));
    await run(store.removeConnector('contoso', 'app'));
    await run(store.removeDomain('contoso.com'));
    await run(store.removeTenant('contoso'));
    assert.deepEqual(log, [
      '+ tenant contoso',
      '~ tenant contoso: relayRuleSet auto → legacy',
      '+ accepted domain contoso/contoso.com',
      '+ connector contoso/app',
      '~ connector contoso/app: requireTls false → true',
      '- connector contoso/app',
      '- accepted domain contoso/contoso.com',
      '- tenant contoso',
    ]);
    assert.equal(await store.revision(), r0 + 8);
    assert.deepEqual(await store.load(), demoDirectory);
  });

  withStore('a failing edit changes nothing', async ({ store }) => {
    await store.replace(demoDirectory);
    await assert.rejects(store.addDomain('fabrikam', { domain: 'demo.example' }), { name: 'DirectoryEditError', message: 'demo.example already belongs to tenant demo' });
    await assert.rejects(store.addDomain('demo', { domain: 'mail.*.example' }), DirectoryValidationError);
    await assert.rejects(store.addConnector('demo', { name: 'bad', type: 'OnPremises' }), DirectoryValidationError);
    await assert.rejects(store.removeTenant('nobody'), DirectoryEditError);
    await assert.rejects(store.addTenant({ name: 'DEMO' }), DirectoryEditError);
    assert.deepEqual(await store.load(), demoDirectory);
    assert.equal(await store.revision(), 1);
  });

  withStore('ifRevision: a write at the current revision applies; at a stale one it is stale-revision and changes nothing', async ({ store }) => {
    await store.replace(demoDirectory);
    const { directory, revision } = await store.loadWithRevision();
    assert.deepEqual(directory, await store.load());
    assert.equal(revision, 1);
    await store.updateTenant('demo', { rejectDirectSend: true }, { ifRevision: 1 });
    assert.equal(await store.revision(), 2);
    const stale = { code: 'stale-revision', message: 'the directory is at revision 2, not 1: read it again and retry' };
    await assert.rejects(store.updateTenant('demo', { rejectDirectSend: false }, { ifRevision: 1 }), stale);
    await assert.rejects(store.addTenant({ name: 'northwind' }, { ifRevision: 1 }), stale);
    await assert.rejects(store.removeTenant('fabrikam', { ifRevision: 1 }), stale);
    await assert.rejects(store.addDomain('demo', { domain: 'other.example' }, { ifRevision: 1 }), stale);
    await assert.rejects(store.removeDomain('demo.example', { ifRevision: 1 }), stale);
    await assert.rejects(store.addConnector('demo', { name: 'x', type: 'OnPremises', senderIPAddresses: ['192.0.2.1'] }, { ifRevision: 1 }), stale);
    await assert.rejects(store.updateConnector('demo', 'loopback', { enabled: false }, { ifRevision: 1 }), stale);
    await assert.rejects(store.removeConnector('demo', 'loopback', { ifRevision: 1 }), stale);
    await assert.rejects(store.replace({ tenants: [] }, { ifRevision: 1 }), stale);
    assert.equal(await store.revision(), 2);
    assert.equal((await store.load()).tenants.find((t) => t.name === 'demo')?.rejectDirectSend, true);
    assert.equal((await store.load()).tenants.length, 2);
  });

  withStore('ifRevision: of two writers that read the same revision exactly one wins', async ({ store }) => {
    await store.replace(demoDirectory);
    const revision = await store.revision();
    const results = await Promise.allSettled([
      store.updateTenant('demo', { relayRuleSet: 'legacy' }, { ifRevision: revision }),
      store.updateTenant('demo', { relayRuleSet: '2023-11' }, { ifRevision: revision }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    assert.equal((lost.reason as { code: string }).code, 'stale-revision');
    assert.equal(await store.revision(), revision + 1);
  });

  withStore('renaming by case and reordering keep a stable export', async ({ store }) => {
    await store.replace(demoDirectory);
    const reordered = validateDirectory({ tenants: [...demoDirectory.tenants].reverse() });
    assert.deepEqual(await store.replace(reordered), []);
    assert.equal(await store.revision(), 1);
    assert.deepEqual(await store.load(), reordered);
    const renamed = validateDirectory({ tenants: [{ ...demoDirectory.tenants[0]!, name: 'Demo' }, demoDirectory.tenants[1]] });
    assert.deepEqual((await store.replace(renamed)).map(formatChange), ['~ tenant Demo: name demo → Demo']);
    assert.equal((await store.load()).tenants[0]!.name, 'Demo');
  });
}
