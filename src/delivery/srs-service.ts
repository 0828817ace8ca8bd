/**
 * Per-tenant SRS: on or off, and the rewrite domain (null: the server's, delivery.srsDomain or
 * else the hostname). On by default. Delivery reads the setting from the next pass on.
 */
import { normalizeDomain } from '../core/domain.js';
import { invalidField } from '../core/field-error.js';
import { requireTenant } from '../directory/find-tenant.js';
import type { DirectoryStore, SettingsWriteOptions, TenantSettingsStore, TenantSrsSetting } from '../store/ports.js';

export interface SrsView extends TenantSrsSetting {
  tenant: string;
  /** The rewrite domain in use: the tenant's, or the server's. */
  effectiveRewriteDomain: string;
}

/** What to change; a field left out stays as it is. `rewriteDomain: null` goes back to the server's. */
export interface SrsChange {
  enabled?: boolean;
  rewriteDomain?: string | null;
}

export class SrsService {
  constructor(
    private readonly deps: { directory: Pick<DirectoryStore, 'load'>; settings: TenantSettingsStore },
    /** The server's rewrite domain (delivery.srsDomain, else the hostname). */
    readonly serverRewriteDomain: string,
  ) {}

  /** Every tenant's setting in directory order, or one tenant's (any case). */
  async show(tenantName?: string): Promise<SrsView[]> {
    const directory = await this.deps.directory.load();
    const tenants = tenantName === undefined ? directory.tenants : [requireTenant(directory, tenantName)];
    return Promise.all(tenants.map(async (t) => this.view(t.name, await this.deps.settings.srsSetting(t.id))));
  }

  /** Applies the change; `changed` is false (and nothing is written) when it changes nothing. */
  async set(tenantName: string, change: SrsChange, options: SettingsWriteOptions = {}): Promise<{ before: SrsView; after: SrsView; changed: boolean }> {
    let rewriteDomain = change.rewriteDomain;
    if (typeof rewriteDomain === 'string') {
      const d = normalizeDomain(rewriteDomain);
      if (d === null) throw invalidField('rewriteDomain', `not a domain name: ${JSON.stringify(rewriteDomain)}`);
      rewriteDomain = d;
    }
    const tenant = requireTenant(await this.deps.directory.load(), tenantName);
    const before = await this.deps.settings.srsSetting(tenant.id);
    const after: TenantSrsSetting = {
      enabled: change.enabled ?? before.enabled,
      rewriteDomain: rewriteDomain === undefined ? before.rewriteDomain : rewriteDomain,
    };
    const changed = after.enabled !== before.enabled || after.rewriteDomain !== before.rewriteDomain;
    if (changed) await this.deps.settings.setSrsSetting(tenant.id, after, options);
    return { before: this.view(tenant.name, before), after: this.view(tenant.name, after), changed };
  }

  private view(tenant: string, s: TenantSrsSetting): SrsView {
    return { tenant, enabled: s.enabled, rewriteDomain: s.rewriteDomain, effectiveRewriteDomain: s.rewriteDomain ?? this.serverRewriteDomain };
  }
}
