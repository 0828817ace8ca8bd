/** Per-tenant choice whether relayed mail keeps our X-Relaygate-* fields (table relayed_header_settings, migration 009). */
import type { TenantId } from '../../directory/model.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteRelayedHeaders {
  constructor(private readonly db: SqliteDatabase) {}

  /** false when the tenant never chose. */
  keeps(tenantId: TenantId): boolean {
    return statement(this.db, 'SELECT keep FROM relayed_header_settings WHERE tenant_id = ?').pluck().get(tenantId) === 1;
  }

  /** The tenants that chose. */
  all(): Array<{ tenantId: TenantId; keep: boolean }> {
    return (statement(this.db, 'SELECT tenant_id, keep FROM relayed_header_settings ORDER BY tenant_id').all() as Array<{ tenant_id: string; keep: number }>).map(
      (r) => ({ tenantId: r.tenant_id, keep: r.keep === 1 }),
    );
  }

  set(tenantId: TenantId, keep: boolean): void {
    statement(
      this.db,
      'INSERT INTO relayed_header_settings (tenant_id, keep) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET keep = excluded.keep',
    ).run(tenantId, keep ? 1 : 0);
  }
}
