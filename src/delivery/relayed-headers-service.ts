/**
 * Per tenant: whether mail relayed to outside recipients keeps our X-Relaygate-* fields. Off by
 * default (they say which tenant and connector a message came through, nothing an outside receiver
 * needs); inbound and internal recipients always get them. Delivery reads the choice from its next
 * pass on.
 */
import { requireTenant } from '../directory/find-tenant.js';
import type { DirectoryStore, SettingsWriteOptions, TenantSettingsStore } from '../store/ports.js';

export interface RelayedHeadersView {
  tenant: string;
  /** true: relayed mail keeps our fields; false: they are removed before signing. */
  keep: boolean;
}

export class RelayedHeadersService {
  constructor(private readonly deps: { directory: Pick<DirectoryStore, 'load'>; settings: Pick<TenantSettingsStore, 'keepsRelayedHeaders' | 'setRelayedHeaders'> }) {}

  /** Every tenant's choice in directory order, or one tenant's (any case). */
  async show(tenantName?: string): Promise<RelayedHeadersView[]> {
    const directory = await this.deps.directory.load();
    const tenants = tenantName === undefined ? directory.tenants : [requireTenant(directory, tenantName)];
    return Promise.all(tenants.map(async (t) => ({ tenant: t.name, keep: await this.deps.settings.keepsRelayedHeaders(t.id) })));
  }

  /** `changed` is false (and nothing is written) when the tenant already had that choice. */
  async set(tenantName: string, keep: boolean, options: SettingsWriteOptions = {}): Promise<{ before: RelayedHeadersView; after: RelayedHeadersView; changed: boolean }> {
    const tenant = requireTenant(await this.deps.directory.load(), tenantName);
    const before = await this.deps.settings.keepsRelayedHeaders(tenant.id);
    const changed = before !== keep;
    if (changed) await this.deps.settings.setRelayedHeaders(tenant.id, keep, options);
    return { before: { tenant: tenant.name, keep: before }, after: { tenant: tenant.name, keep }, changed };
  }
}
