/** Per-tenant daily recipient limits (table tenant_limits, migrations 004 and 006). */
import type { TenantId } from '../../directory/model.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteQuotaLimits {
  constructor(private readonly db: SqliteDatabase) {}

  /** null: unlimited (never set, or set to unlimited). */
  dailyLimit(tenantId: TenantId): number | null {
    const v = statement(this.db, 'SELECT daily_recipients FROM tenant_limits WHERE tenant_id = ?').pluck().get(tenantId);
    return typeof v === 'number' ? v : null;
  }

  all(): Array<{ tenantId: TenantId; dailyRecipients: number | null }> {
    return (statement(this.db, 'SELECT tenant_id, daily_recipients FROM tenant_limits ORDER BY tenant_id').all() as Array<{ tenant_id: string; daily_recipients: number | null }>).map(
      (r) => ({ tenantId: r.tenant_id, dailyRecipients: r.daily_recipients }),
    );
  }

  set(tenantId: TenantId, limit: number | null): void {
    statement(
      this.db,
      'INSERT INTO tenant_limits (tenant_id, daily_recipients) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET daily_recipients = excluded.daily_recipients',
    ).run(tenantId, limit);
  }
}
