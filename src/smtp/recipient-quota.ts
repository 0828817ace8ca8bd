/**
 * Per-tenant daily recipient quotas: an admission check at RCPT TO, after the policy accepted the
 * recipient (issue 4, item 7). The limit comes from the tenant settings snapshot; the count is the
 * store's atomic counter, so every process sharing the store enforces one limit between them.
 *
 * A tenant without a limit costs nothing on the RCPT path: its recipients are counted in memory and
 * added to the store once a second (and at stop), so `quota show` sees them and a limit set later in
 * the day starts from the true count. A tenant with a limit costs one counter statement per RCPT
 * (the adapter commits the statements of a burst together); once it was refused at a limit,
 * further RCPTs that day are refused from memory until the limit changes.
 */
import type { Clock } from '../core/clock.js';
import { Replies, type SmtpReply } from '../core/reply.js';
import type { TenantId } from '../directory/model.js';
import type { QuotaCounters, UtcDay } from '../store/ports.js';
import type { TenantSettingsSnapshot } from '../store/tenant-settings-snapshot.js';

/** The UTC day of an instant: quotas reset at 00:00 UTC. */
export function utcDay(at: Date): UtcDay {
  return at.toISOString().slice(0, 10);
}

/** The client gets the generic reply; `reason` (which tenant, which limit) is for the log and the decision record. */
export type Admission = { ok: true } | { ok: false; reply: SmtpReply; reason: string };

function refusal(tenant: string, limit: number): Admission {
  return { ok: false, reply: Replies.quotaExceeded, reason: `daily recipient quota of ${limit} for tenant ${tenant} reached` };
}

export interface RecipientQuotaDeps {
  settings: { snapshot(): Promise<TenantSettingsSnapshot> };
  counters: QuotaCounters;
  clock: Clock;
  log?: (level: 'warn', message: string) => void;
}

export class RecipientQuota {
  /** Counted but not yet added to the store, per tenant id and day (tenants without a limit). */
  private readonly unsaved = new Map<string, { tenantId: TenantId; day: UtcDay; n: number }>();
  /** The limit a tenant was refused at today: refused again without asking the store. */
  private readonly refusedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RecipientQuotaDeps) {}

  /**
   * Counts one more recipient of the tenant (its id, and the name the decision gave it) today, or
   * says which limit refuses it. By id: a tenant renamed a moment ago keeps its limit, though the
   * settings snapshot may not know the new name yet.
   */
  async admit(tenant: { id: TenantId; name: string }): Promise<Admission> {
    const settings = await this.deps.settings.snapshot();
    const tenantId = tenant.id;
    // A tenant the snapshot does not know yet has no limit (it was just added) or is gone: nothing to count.
    if (settings.tenantName(tenantId) === null) return { ok: true };
    const day = utcDay(this.deps.clock.now());
    const key = `${tenantId}\u0000${day}`;
    const limit = settings.dailyLimitOf(tenantId);
    if (limit === null) {
      const entry = this.unsaved.get(key) ?? { tenantId, day, n: 0 };
      entry.n++;
      this.unsaved.set(key, entry);
      return { ok: true };
    }
    const name = tenant.name;
    if (this.refusedAt.get(key) === limit) return refusal(name, limit);
    await this.save(key);
    const counted = await this.deps.counters.add(tenantId, day, 1, limit);
    if (counted.ok) return { ok: true };
    this.refusedAt.set(key, limit);
    return refusal(name, limit);
  }

  /** Adds what was counted in memory to the store. */
  async flush(): Promise<void> {
    await Promise.all([...this.unsaved.keys()].map((key) => this.save(key)));
    const today = utcDay(this.deps.clock.now());
    for (const key of this.refusedAt.keys()) if (!key.endsWith(`\u0000${today}`)) this.refusedAt.delete(key);
  }

  /** Flushes every `everyMs` until stop(). */
  start(everyMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush().catch((err: unknown) => this.warn(err)), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush().catch((err: unknown) => this.warn(err));
  }

  private async save(key: string): Promise<void> {
    const entry = this.unsaved.get(key);
    if (!entry) return;
    this.unsaved.delete(key);
    try {
      await this.deps.counters.add(entry.tenantId, entry.day, entry.n, null);
    } catch (err) {
      // Counted again next time: the recipients were accepted, their count must not get lost.
      const again = this.unsaved.get(key);
      if (again) again.n += entry.n;
      else this.unsaved.set(key, entry);
      throw err;
    }
  }

  private warn(err: unknown): void {
    this.deps.log?.('warn', `recipient quota counts not saved: ${err instanceof Error ? err.message : String(err)}`);
  }
}
