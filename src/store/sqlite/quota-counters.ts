/**
 * Recipient counts per tenant and UTC day (table tenant_recipient_counts, migrations 004 and 006).
 * Each `add` is one conditional upsert, so the check and the count are one atomic step however
 * many processes share the file. Adds made in the same turn of the event loop are committed
 * together (each in its own savepoint): one fsync for a burst of RCPTs instead of one each.
 */
import type { TenantId } from '../../directory/model.js';
import type { CounterResult, QuotaCounters, UtcDay } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

interface PendingAdd {
  tenantId: TenantId;
  day: UtcDay;
  n: number;
  limit: number | null;
  resolve(result: CounterResult): void;
  reject(err: unknown): void;
}

const ADD = `INSERT INTO tenant_recipient_counts (tenant_id, day, recipients)
  SELECT @tenantId, @day, @n WHERE @limit IS NULL OR @n <= @limit
  ON CONFLICT (tenant_id, day) DO UPDATE SET recipients = recipients + excluded.recipients
    WHERE @limit IS NULL OR recipients + excluded.recipients <= @limit
  RETURNING recipients`;

export class SqliteQuotaCounters implements QuotaCounters {
  private pending: PendingAdd[] = [];

  constructor(private readonly db: SqliteDatabase) {}

  add(tenantId: TenantId, day: UtcDay, n: number, limit: number | null): Promise<CounterResult> {
    if (!Number.isSafeInteger(n) || n < 0) return Promise.reject(new RangeError(`cannot count ${n} recipients`));
    return new Promise((resolve, reject) => {
      if (this.pending.push({ tenantId, day, n, limit, resolve, reject }) === 1) setImmediate(() => this.commit());
    });
  }

  async count(tenantId: TenantId, day: UtcDay): Promise<number> {
    return this.current(tenantId, day);
  }

  private current(tenantId: TenantId, day: UtcDay): number {
    const v = statement(this.db, 'SELECT recipients FROM tenant_recipient_counts WHERE tenant_id = ? AND day = ?').pluck().get(tenantId, day);
    return typeof v === 'number' ? v : 0;
  }

  private commit(): void {
    const batch = this.pending;
    this.pending = [];
    const add = statement(this.db, ADD);
    const one = this.db.transaction((p: PendingAdd): CounterResult => {
      const row = add.get({ tenantId: p.tenantId, day: p.day, n: p.n, limit: p.limit }) as { recipients: number } | undefined;
      return row ? { ok: true, count: row.recipients } : { ok: false, count: this.current(p.tenantId, p.day) };
    });
    const outcomes: Array<{ result: CounterResult } | { error: unknown }> = [];
    try {
      this.db
        .transaction(() => {
          for (const p of batch) {
            try {
              outcomes.push({ result: one(p) });
            } catch (error) {
              outcomes.push({ error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if ('result' in o) p.resolve(o.result);
      else p.reject(o.error);
    });
  }
}
