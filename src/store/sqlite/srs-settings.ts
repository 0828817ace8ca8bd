/** Per-tenant SRS settings (table srs_settings, migrations 003 and 006): on by default. */
import type { TenantId } from '../../directory/model.js';
import { defaultSrsSetting, type TenantSrsSetting } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

interface SrsRow {
  tenant_id: string;
  enabled: number;
  rewrite_domain: string | null;
}

export class SqliteSrsSettings {
  constructor(private readonly db: SqliteDatabase) {}

  settingFor(tenantId: TenantId): TenantSrsSetting {
    const row = statement(this.db, 'SELECT * FROM srs_settings WHERE tenant_id = ?').get(tenantId) as SrsRow | undefined;
    return row ? toSetting(row) : { ...defaultSrsSetting };
  }

  /** The tenants that changed their setting. */
  all(): Array<{ tenantId: TenantId; setting: TenantSrsSetting }> {
    return (statement(this.db, 'SELECT * FROM srs_settings ORDER BY tenant_id').all() as SrsRow[]).map((r) => ({ tenantId: r.tenant_id, setting: toSetting(r) }));
  }

  set(tenantId: TenantId, setting: TenantSrsSetting): void {
    statement(
      this.db,
      `INSERT INTO srs_settings (tenant_id, enabled, rewrite_domain) VALUES (?, ?, ?)
       ON CONFLICT (tenant_id) DO UPDATE SET enabled = excluded.enabled, rewrite_domain = excluded.rewrite_domain`,
    ).run(tenantId, setting.enabled ? 1 : 0, setting.rewriteDomain);
  }
}

function toSetting(r: SrsRow): TenantSrsSetting {
  return { enabled: r.enabled === 1, rewriteDomain: r.rewrite_domain };
}
