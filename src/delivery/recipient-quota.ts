/**
 * Per-tenant daily recipient quotas, checked by the SMTP session at RCPT TO (issue 4, item 7).
 * Counts are kept in memory per UTC day and written to the store by `flush()` (the service flushes
 * every few seconds and at stop), so a RCPT costs no fsync; a crash can forget the last seconds.
 */
import type { Clock } from '../core/clock.js';
import { Replies, type SmtpReply } from '../core/reply.js';

export interface QuotaStore {
  /** The tenant's daily recipient limit; null = unlimited. */
  dailyLimit(tenant: string): number | null;
  count(tenant: string, day: string): number;
  save(counts: ReadonlyArray<{ tenant: string; day: string; recipients: number }>): void;
}

export class RecipientQuota {
  private readonly counts = new Map<string, number>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly store: QuotaStore,
    private readonly clock: Clock,
  ) {}

  private day(): string {
    return this.clock.now().toISOString().slice(0, 10);
  }

  /**
   * Counts one more recipient for `tenant` today, or refuses it: the client gets the generic reply,
   * `reason` (which tenant, which limit) is for the log and the decision record.
   */
  admit(tenant: string): { ok: true } | { ok: false; reply: SmtpReply; reason: string } {
    const limit = this.store.dailyLimit(tenant);
    const day = this.day();
    const key = `${tenant}\u0000${day}`;
    let current = this.counts.get(key);
    if (current === undefined) {
      current = this.store.count(tenant, day);
      this.evictOtherDays(day);
    }
    if (limit !== null && current >= limit) {
      this.counts.set(key, current);
      return { ok: false, reply: Replies.quotaExceeded, reason: `daily recipient quota of ${limit} for tenant ${tenant} reached` };
    }
    this.counts.set(key, current + 1);
    this.dirty.add(key);
    return { ok: true };
  }

  /** Writes changed counts to the store. */
  flush(): void {
    if (this.dirty.size === 0) return;
    const rows = [...this.dirty].map((key) => {
      const [tenant, day] = key.split('\u0000') as [string, string];
      return { tenant, day, recipients: this.counts.get(key) ?? 0 };
    });
    this.store.save(rows);
    this.dirty.clear();
  }

  private evictOtherDays(day: string): void {
    for (const key of this.counts.keys()) {
      if (!key.endsWith(`\u0000${day}`) && !this.dirty.has(key)) this.counts.delete(key);
    }
  }
}
