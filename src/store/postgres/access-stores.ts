/** The admin API's tokens and audit log on PostgreSQL (tables admin_tokens and audit_log, migration 010). */
import { auditFromRow, tokenFromRow, type AuditRow, type TokenRow } from '../access-rows.js';
import type { AuditFilter, AuditLog, AuditRecord, StoredAuditRecord, TokenRecord, TokenStore } from '../ports.js';
import type { PgDatabase } from './database.js';

export class PgTokenStore implements TokenStore {
  constructor(private readonly db: PgDatabase) {}

  async create(t: TokenRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO admin_tokens (id, name, role, tenant_id, scope, secret_hash, created_at, expires_at, revoked_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [t.id, t.name, t.role, t.tenantId, t.scope, t.secretHash, t.createdAt, t.expiresAt, t.revokedAt, t.createdBy],
    );
  }

  async get(id: string): Promise<TokenRecord | null> {
    const { rows } = await this.db.query<TokenRow>('SELECT * FROM admin_tokens WHERE id = $1', [id]);
    return rows[0] ? tokenFromRow(rows[0]) : null;
  }

  async list(filter: { tenantId?: string } = {}): Promise<TokenRecord[]> {
    const { rows } =
      filter.tenantId === undefined
        ? await this.db.query<TokenRow>('SELECT * FROM admin_tokens ORDER BY id')
        : await this.db.query<TokenRow>('SELECT * FROM admin_tokens WHERE tenant_id = $1 ORDER BY id', [filter.tenantId]);
    return rows.map(tokenFromRow);
  }

  async revoke(id: string, at: number): Promise<TokenRecord | null> {
    const { rows } = await this.db.query<TokenRow>(
      'UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *',
      [id, at],
    );
    return rows[0] ? tokenFromRow(rows[0]) : null;
  }
}

export class PgAuditLog implements AuditLog {
  constructor(private readonly db: PgDatabase) {}

  async append(r: AuditRecord): Promise<StoredAuditRecord> {
    const { rows } = await this.db.query<{ id: number }>(
      `INSERT INTO audit_log (at, actor, actor_name, tenant_id, action, target, client_ip, before, after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [r.at, r.actor, r.actorName, r.tenantId, r.action, r.target, r.clientIp, r.before, r.after],
    );
    return { ...r, id: Number(rows[0]!.id) };
  }

  async list(filter: AuditFilter): Promise<StoredAuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.tenantId !== undefined) {
      params.push(filter.tenantId);
      where.push(`tenant_id = $${params.length}`);
    }
    if (filter.before !== undefined) {
      params.push(filter.before);
      where.push(`id < $${params.length}`);
    }
    params.push(filter.limit);
    const { rows } = await this.db.query<AuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(auditFromRow);
  }
}
