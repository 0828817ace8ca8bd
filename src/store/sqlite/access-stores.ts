/** The admin API's tokens and audit log on SQLite (tables admin_tokens and audit_log, migration 013). */
import type { AuditFilter, AuditLog, AuditRecord, StoredAuditRecord, TokenRecord, TokenStore } from '../ports.js';
import { auditFromRow, tokenFromRow, type AuditRow, type TokenRow } from '../access-rows.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteTokenStore implements TokenStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(t: TokenRecord): Promise<void> {
    statement(
      this.db,
      `INSERT INTO admin_tokens (id, name, role, tenant_id, scope, secret_hash, created_at, expires_at, revoked_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(t.id, t.name, t.role, t.tenantId, t.scope, t.secretHash, t.createdAt, t.expiresAt, t.revokedAt, t.createdBy);
  }

  async get(id: string): Promise<TokenRecord | null> {
    const row = statement(this.db, 'SELECT * FROM admin_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row ? tokenFromRow(row) : null;
  }

  async list(filter: { tenantId?: string } = {}): Promise<TokenRecord[]> {
    const rows = (filter.tenantId === undefined
      ? statement(this.db, 'SELECT * FROM admin_tokens ORDER BY id').all()
      : statement(this.db, 'SELECT * FROM admin_tokens WHERE tenant_id = ? ORDER BY id').all(filter.tenantId)) as TokenRow[];
    return rows.map(tokenFromRow);
  }

  async revoke(id: string, at: number): Promise<TokenRecord | null> {
    return this.db.transaction(() => {
      statement(this.db, 'UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
      const row = statement(this.db, 'SELECT * FROM admin_tokens WHERE id = ?').get(id) as TokenRow | undefined;
      return row ? tokenFromRow(row) : null;
    }).immediate();
  }
}

export class SqliteAuditLog implements AuditLog {
  constructor(private readonly db: SqliteDatabase) {}

  async append(r: AuditRecord): Promise<StoredAuditRecord> {
    const result = statement(
      this.db,
      `INSERT INTO audit_log (at, actor, actor_name, tenant_id, action, target, client_ip, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.at, r.actor, r.actorName, r.tenantId, r.action, r.target, r.clientIp, r.before, r.after);
    return { ...r, id: Number(result.lastInsertRowid) };
  }

  async list(filter: AuditFilter): Promise<StoredAuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.tenantId !== undefined) {
      where.push('tenant_id = ?');
      params.push(filter.tenantId);
    }
    if (filter.before !== undefined) {
      where.push('id < ?');
      params.push(filter.before);
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filter.limit) as AuditRow[]).map(auditFromRow);
  }
}
