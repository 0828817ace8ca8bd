/**
 * Tenant settings indexed for the hot path: the daily limit at every RCPT, the DKIM key, routes
 * SRS setting and relayed-headers choice of every message delivered. Built from one read of the TenantSettingsStore and
 * the directory's tenants (for name → id), and rebuilt only when either changed, like the policy
 * snapshot (smtp/policy-source.ts). Lookups are synchronous and never touch storage.
 */
import { tenantNameKey } from '../directory/find-tenant.js';
import type { Tenant, TenantId } from '../directory/model.js';
import { defaultSrsSetting, type DkimKey, type Route, type StoredDkimKey, type TenantSettingsState, type TenantSettingsStore, type TenantSrsSetting } from './ports.js';

const EMPTY: TenantSettingsState = { revision: 0, dkimKeys: [], routes: [], srs: [], dailyLimits: [], relayedHeaders: [] };

export class TenantSettingsSnapshot {
  readonly revision: number;
  private readonly idsByName = new Map<string, TenantId>();
  private readonly namesById = new Map<TenantId, string>();
  private readonly keys = new Map<string, StoredDkimKey>();
  private readonly routes = new Map<TenantId, Route[]>();
  private readonly srs = new Map<TenantId, TenantSrsSetting>();
  private readonly limits = new Map<TenantId, number | null>();
  private readonly relayedHeaders = new Map<TenantId, boolean>();
  private readonly rewriteDomainList: readonly string[];

  constructor(state: TenantSettingsState, tenants: readonly Pick<Tenant, 'id' | 'name'>[]) {
    this.revision = state.revision;
    for (const t of tenants) {
      if (t.id === undefined) continue;
      this.idsByName.set(tenantNameKey(t.name), t.id);
      this.namesById.set(t.id, t.name);
    }
    for (const k of state.dkimKeys) {
      if (!k.active) continue;
      const key = `${k.tenantId}\u0000${k.domain}`;
      const best = this.keys.get(key);
      // The newest active key of a domain signs; of two as new, the first selector.
      if (!best || k.createdAt > best.createdAt || (k.createdAt === best.createdAt && k.selector < best.selector)) this.keys.set(key, k);
    }
    for (const r of state.routes) {
      const list = this.routes.get(r.tenantId) ?? [];
      list.push(r.route);
      this.routes.set(r.tenantId, list);
    }
    for (const s of state.srs) this.srs.set(s.tenantId, s.setting);
    for (const l of state.dailyLimits) this.limits.set(l.tenantId, l.dailyRecipients);
    for (const h of state.relayedHeaders) this.relayedHeaders.set(h.tenantId, h.keep);
    this.rewriteDomainList = [...new Set(state.srs.flatMap((s) => (s.setting.rewriteDomain !== null ? [s.setting.rewriteDomain] : [])))];
  }

  static empty(): TenantSettingsSnapshot {
    return new TenantSettingsSnapshot(EMPTY, []);
  }

  /** The id of the tenant named `name` in any case; null when the directory has no such tenant. */
  tenantId(name: string): TenantId | null {
    return this.idsByName.get(tenantNameKey(name)) ?? null;
  }

  /** The tenant's name as the directory spells it now. */
  tenantName(id: TenantId): string | null {
    return this.namesById.get(id) ?? null;
  }

  /** The newest active key of the tenant for exactly `domain` (lower case), or null. */
  activeDkimKey(tenantId: TenantId, domain: string): DkimKey | null {
    const k = this.keys.get(`${tenantId}\u0000${domain}`);
    return k ? { domain: k.domain, selector: k.selector, algorithm: k.algorithm, privateKey: k.privateKey, publicKey: k.publicKey } : null;
  }

  routesOf(tenantId: TenantId): readonly Route[] {
    return this.routes.get(tenantId) ?? [];
  }

  srsOf(tenantId: TenantId): TenantSrsSetting {
    return this.srs.get(tenantId) ?? defaultSrsSetting;
  }

  /** null: unlimited. */
  dailyLimitOf(tenantId: TenantId): number | null {
    return this.limits.get(tenantId) ?? null;
  }

  /** Whether the tenant's relayed mail keeps our X-Relaygate-* fields (off unless the tenant chose). */
  keepsRelayedHeaders(tenantId: TenantId): boolean {
    return this.relayedHeaders.get(tenantId) ?? false;
  }

  /** Every rewrite domain a tenant names (the server's default comes on top). */
  rewriteDomains(): readonly string[] {
    return this.rewriteDomainList;
  }
}

/** Where the directory's tenants come from: the policy snapshot cache does (its snapshot has `tenants`). */
export interface TenantListSource {
  snapshot(): Promise<{ readonly tenants: readonly Pick<Tenant, 'id' | 'name'>[] }>;
}

/**
 * The current TenantSettingsSnapshot. `snapshot()` asks the store's revision at most once per
 * `checkEveryMs` (for the RCPT path); `fresh()` asks it now (once per delivery pass). Either
 * rebuilds only when the settings revision or the directory snapshot changed.
 */
export class TenantSettingsCache {
  private current: { revision: number; tenants: object; snapshot: TenantSettingsSnapshot } | null = null;
  private checkedAt = -Infinity;
  private inflight: Promise<TenantSettingsSnapshot> | null = null;

  constructor(
    private readonly store: Pick<TenantSettingsStore, 'revision' | 'read'>,
    private readonly directory: TenantListSource,
    private readonly checkEveryMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  snapshot(): Promise<TenantSettingsSnapshot> {
    // While a check runs, its answer is the current one: the snapshot before it may be stale.
    if (this.inflight) return this.inflight;
    if (this.current && this.now() - this.checkedAt < this.checkEveryMs) return Promise.resolve(this.current.snapshot);
    return this.refresh();
  }

  fresh(): Promise<TenantSettingsSnapshot> {
    return this.refresh();
  }

  /** The last snapshot built, without waiting (starts a refresh when it is due); empty before the first. */
  latest(): TenantSettingsSnapshot {
    if (!this.current || this.now() - this.checkedAt >= this.checkEveryMs) void this.refresh().catch(() => undefined);
    return this.current?.snapshot ?? TenantSettingsSnapshot.empty();
  }

  private refresh(): Promise<TenantSettingsSnapshot> {
    this.inflight ??= this.rebuild().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async rebuild(): Promise<TenantSettingsSnapshot> {
    const startedAt = this.now();
    const [revision, directory] = await Promise.all([this.store.revision(), this.directory.snapshot()]);
    const c = this.current;
    if (!c || c.revision !== revision || c.tenants !== directory.tenants) {
      const state = await this.store.read();
      this.current = { revision: state.revision, tenants: directory.tenants, snapshot: new TenantSettingsSnapshot(state, directory.tenants) };
    }
    this.checkedAt = startedAt;
    return this.current!.snapshot;
  }
}
