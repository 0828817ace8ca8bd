/**
 * Recipient counts per tenant and UTC day on PostgreSQL (table tenant_recipient_counts, migration
 * 002). Each `add` is one conditional upsert: the row lock of ON CONFLICT DO UPDATE makes the check
 * and the count one atomic step for every node sharing the database.
 */
import type { TenantId } from '../../directory/model.js';
import type { CounterResult, QuotaCounters, UtcDay } from '../ports.js';
import type { PgDatabase } from './database.js';

const ADD = `INSERT INTO tenant_recipient_counts AS c (tenant_id, day, recipients)
  SELECT $1, $2, $3 WHERE $4::integer IS NULL OR $3 <= $4::integer
  ON CONFLICT (tenant_id, day) DO UPDATE SET recipients = c.recipients + excluded.recipients
    WHERE $4::integer IS NULL OR c.recipients + excluded.recipients <= $4::integer
  RETURNING recipients`;

export class PgQuotaCounters implements QuotaCounters {
  constructor(private readonly db: PgDatabase) {}

  async add(tenantId: TenantId, day: UtcDay, n: number, limit: number | null): Promise<CounterResult> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot count ${n} recipients`);
    const { rows } = await this.db.query<{ recipients: number }>(ADD, [tenantId, day, n, limit]);
    return rows[0] ? { ok: true, count: rows[0].recipients } : { ok: false, count: await this.count(tenantId, day) };
  }

  async count(tenantId: TenantId, day: UtcDay): Promise<number> {
    const { rows } = await this.db.query<{ recipients: number }>('SELECT recipients FROM tenant_recipient_counts WHERE tenant_id = $1 AND day = $2', [tenantId, day]);
    return rows[0]?.recipients ?? 0;
  }
}
