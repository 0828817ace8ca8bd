/** The rows of admin_tokens and audit_log as both adapters read them, mapped to the port's records in one place. */
import type { StoredAuditRecord, TokenRecord } from './ports.js';

export interface TokenRow {
  id: string; name: string; role: string; tenant_id: string | null; scope: string; secret_hash: string;
  created_at: number; expires_at: number | null; revoked_at: number | null; created_by: string | null;
}

export function tokenFromRow(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role === 'admin' ? 'admin' : 'tenant',
    tenantId: r.tenant_id,
    scope: r.scope === 'write' ? 'write' : 'read',
    secretHash: r.secret_hash,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    createdBy: r.created_by,
  };
}

export interface AuditRow {
  id: number; at: number; actor: string; actor_name: string; tenant_id: string | null; action: string; target: string;
  client_ip: string; before: string | null; after: string | null;
}

export function auditFromRow(r: AuditRow): StoredAuditRecord {
  return {
    id: Number(r.id),
    at: Number(r.at),
    actor: r.actor,
    actorName: r.actor_name,
    tenantId: r.tenant_id,
    action: r.action,
    target: r.target,
    clientIp: r.client_ip,
    before: r.before,
    after: r.after,
  };
}

