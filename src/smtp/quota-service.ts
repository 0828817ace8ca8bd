/**
 * Per-tenant daily recipient limits and today's counts: what `quota show|set` (and later the admin
 * API) read and change. The RCPT check (recipient-quota.ts) picks a change up within a second.
 */
import { invalidField } from '../core/field-error.js';
import { requireTenant } from '../directory/find-tenant.js';
import type { DirectoryStore, QuotaCounters, SettingsWriteOptions, TenantSettingsStore, UtcDay } from '../store/ports.js';
import { utcDay } from './recipient-quota.js';

export interface QuotaView {
  tenant: string;
  /** null: unlimited. */
  dailyLimit: number | null;
  /** The UTC day the count is for (quotas reset at 00:00 UTC). */
  day: UtcDay;
  recipients: number;
}

export class QuotaService {
  constructor(
    private readonly deps: { directory: Pick<DirectoryStore, 'load'>; settings: TenantSettingsStore; counters: QuotaCounters },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Every tenant's limit and today's count in directory order, or one tenant's (any case). */
  async show(tenantName?: string): Promise<QuotaView[]> {
    const directory = await this.deps.directory.load();
    const tenants = tenantName === undefined ? directory.tenants : [requireTenant(directory, tenantName)];
    const day = utcDay(this.now());
    return Promise.all(
      tenants.map(async (t) => ({
        tenant: t.name,
        dailyLimit: await this.deps.settings.dailyLimit(t.id),
        day,
        recipients: await this.deps.counters.count(t.id, day),
      })),
    );
  }

  /** Sets the limit (a whole number of recipients, 0 refuses all; null: unlimited). */
  async set(tenantName: string, limit: number | null, options: SettingsWriteOptions = {}): Promise<{ tenant: string; before: number | null; after: number | null; changed: boolean }> {
    if (limit !== null && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw invalidField('limit', `expected a whole number of recipients per day (0 or more) or unlimited, got ${limit}`);
    }
    const tenant = requireTenant(await this.deps.directory.load(), tenantName);
    const before = await this.deps.settings.dailyLimit(tenant.id);
    const changed = before !== limit;
    if (changed) await this.deps.settings.setDailyLimit(tenant.id, limit, options);
    return { tenant: tenant.name, before, after: limit, changed };
  }
}
