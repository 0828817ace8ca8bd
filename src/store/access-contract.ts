/**
 * The TokenStore and AuditLog contract: every adapter runs these tests against a real database
 * (sqlite/access-stores.test.ts, postgres/access-stores.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDirectory, type StoredTenant } from '../directory/index.js';
import type { AuditLog, AuditRecord, DirectoryStore, TokenRecord, TokenStore } from './ports.js';

export interface OpenedAccessStores {
  directory: DirectoryStore;
  tokens: TokenStore;
  audit: AuditLog;
  close(): Promise<void>;
  /** The same database, opened again (durability). */
  reopen(): Promise<OpenedAccessStores>;
}

async function tenants(directory: DirectoryStore): Promise<[StoredTenant, StoredTenant]> {
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
  const [a, b] = (await directory.load()).tenants;
  return [a!, b!];
}

function token(id: string, patch: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id,
    name: `token ${id}`,
    role: 'admin',
    tenantId: null,
    scope: 'write',
    secretHash: 'a'.repeat(64),
    createdAt: 1_700_000_000_000,
    expiresAt: null,
    revokedAt: null,
    createdBy: null,
    ...patch,
  };
}

function record(patch: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: 1_700_000_000_000,
    actor: '01KDVDNA00AAAAAAAAAAAAAAAA',
    actorName: 'ops',
    tenantId: null,
    action: 'POST /v1/tenants',
    target: '/v1/tenants',
    clientIp: '127.0.0.1',
    before: null,
    after: '{"name":"contoso"}',
    ...patch,
  };
}

export function accessStoresContract(adapter: string, open: () => Promise<OpenedAccessStores>): void {
  const withStore = (name: string, fn: (o: OpenedAccessStores) => Promise<void>): void => {
    test(`${adapter} access stores: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withStore('a token is kept as given and read back by id, also after reopening', async (o) => {
    const [contoso] = await tenants(o.directory);
    const admin = token('01KDVDNA00AAAAAAAAAAAAAAAA', { expiresAt: 1_800_000_000_000 });
    const tenant = token('01KDVDNA00BBBBBBBBBBBBBBBB', { role: 'tenant', tenantId: contoso.id, scope: 'read', createdBy: admin.id });
    await o.tokens.create(admin);
    await o.tokens.create(tenant);
    assert.deepEqual(await o.tokens.get(admin.id), admin);
    assert.deepEqual(await o.tokens.get(tenant.id), tenant);
    assert.equal(await o.tokens.get('01KDVDNA00CCCCCCCCCCCCCCCC'), null);
    await o.close();
    const again = await o.reopen();
    try {
      assert.deepEqual(await again.tokens.list(), [admin, tenant]);
    } finally {
      await again.close();
    }
  });

  withStore('list by tenant; a taken id or an unknown tenant id is refused and stores nothing', async ({ directory, tokens }) => {
    const [contoso, fabrikam] = await tenants(directory);
    await tokens.create(token('01KDVDNA00AAAAAAAAAAAAAAAA', { role: 'tenant', tenantId: contoso.id }));
    await tokens.create(token('01KDVDNA00BBBBBBBBBBBBBBBB', { role: 'tenant', tenantId: fabrikam.id }));
    await tokens.create(token('01KDVDNA00CCCCCCCCCCCCCCCC'));
    assert.deepEqual((await tokens.list({ tenantId: contoso.id })).map((t) => t.id), ['01KDVDNA00AAAAAAAAAAAAAAAA']);
    await assert.rejects(tokens.create(token('01KDVDNA00CCCCCCCCCCCCCCCC', { name: 'again' })));
    await assert.rejects(tokens.create(token('01KDVDNA00DDDDDDDDDDDDDDDD', { role: 'tenant', tenantId: '01KDVDNA00ZZZZZZZZZZZZZZZZ' })));
    await assert.rejects(tokens.create(token('01KDVDNA00EEEEEEEEEEEEEEEE', { role: 'admin', tenantId: contoso.id })), 'an admin token names no tenant');
    assert.equal((await tokens.list()).length, 3);
    assert.equal((await tokens.get('01KDVDNA00CCCCCCCCCCCCCCCC'))?.name, 'token 01KDVDNA00CCCCCCCCCCCCCCCC');
  });

  withStore('revoke marks once and keeps the first instant; an unknown id is null', async ({ tokens }) => {
    await tokens.create(token('01KDVDNA00AAAAAAAAAAAAAAAA'));
    assert.equal((await tokens.revoke('01KDVDNA00AAAAAAAAAAAAAAAA', 5))?.revokedAt, 5);
    assert.equal((await tokens.revoke('01KDVDNA00AAAAAAAAAAAAAAAA', 9))?.revokedAt, 5);
    assert.equal((await tokens.get('01KDVDNA00AAAAAAAAAAAAAAAA'))?.revokedAt, 5);
    assert.equal(await tokens.revoke('01KDVDNA00ZZZZZZZZZZZZZZZZ', 5), null);
  });

  withStore('removing a tenant removes its tokens, not the others', async ({ directory, tokens }) => {
    const [contoso, fabrikam] = await tenants(directory);
    await tokens.create(token('01KDVDNA00AAAAAAAAAAAAAAAA', { role: 'tenant', tenantId: contoso.id }));
    await tokens.create(token('01KDVDNA00BBBBBBBBBBBBBBBB', { role: 'tenant', tenantId: fabrikam.id }));
    await tokens.create(token('01KDVDNA00CCCCCCCCCCCCCCCC'));
    await directory.removeTenant('contoso');
    assert.deepEqual((await tokens.list()).map((t) => t.id), ['01KDVDNA00BBBBBBBBBBBBBBBB', '01KDVDNA00CCCCCCCCCCCCCCCC']);
  });

  withStore('the audit log appends with growing ids and reads newest first, by tenant and in pages', async ({ directory, audit }) => {
    const [contoso] = await tenants(directory);
    const a = await audit.append(record());
    const b = await audit.append(record({ tenantId: contoso.id, action: 'PATCH /v1/tenants/{tenant}', target: `/v1/tenants/contoso`, before: '{"a":1}', after: '{"a":2}' }));
    const c = await audit.append(record({ tenantId: contoso.id, after: null }));
    assert.ok(a.id < b.id && b.id < c.id);
    assert.deepEqual(await audit.list({ limit: 10 }), [c, b, a]);
    assert.deepEqual(await audit.list({ tenantId: contoso.id, limit: 10 }), [c, b]);
    assert.deepEqual(await audit.list({ limit: 1, before: c.id }), [b]);
    assert.deepEqual(b, { ...record({ tenantId: contoso.id, action: 'PATCH /v1/tenants/{tenant}', target: '/v1/tenants/contoso', before: '{"a":1}', after: '{"a":2}' }), id: b.id });
  });

  withStore('audit records outlive their tenant', async ({ directory, audit }) => {
    const [contoso] = await tenants(directory);
    await audit.append(record({ tenantId: contoso.id }));
    await directory.removeTenant('contoso');
    assert.equal((await audit.list({ tenantId: contoso.id, limit: 10 })).length, 1);
  });
}
