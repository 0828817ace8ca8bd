/**
 * Who is asking: an admin or a tenant, reading or writing. Every admin API request runs as the
 * principal its token proves; the command line runs as the operator, who holds the store itself.
 * The rules of what a principal may touch are here, so each front end applies the same ones.
 */
import { RelaygateError } from '../core/errors.js';
import type { StoredDirectory, StoredTenant, TenantId } from '../directory/index.js';
import { findTenant } from '../directory/index.js';
import type { TokenRole, TokenScope } from '../store/ports.js';

export interface Principal {
  /** The token's id; null for the operator at the command line. */
  tokenId: string | null;
  name: string;
  role: TokenRole;
  /** A tenant principal's tenant; null for an admin. */
  tenantId: TenantId | null;
  scope: TokenScope;
  /** When the credentials stop working (epoch ms); null: never. */
  expiresAt: number | null;
}

/** The operator at the command line: has the store, so has everything. */
export const operator: Principal = Object.freeze({ tokenId: null, name: 'command line', role: 'admin', tenantId: null, scope: 'write', expiresAt: null });

export function isAdmin(p: Principal): boolean {
  return p.role === 'admin';
}

/** Writes need a write token. */
export function requireWrite(p: Principal): void {
  if (p.scope !== 'write') throw new RelaygateError('forbidden', 'this token is read-only', { details: { scope: p.scope } });
}

/** Server-wide resources (every tenant, the audit log, tokens of any tenant) are for admins. */
export function requireAdmin(p: Principal): void {
  if (!isAdmin(p)) throw new RelaygateError('forbidden', 'this needs an admin token', { details: { role: p.role } });
}

/**
 * The tenant `ref` names (its id, or its name in any case) as this principal may see it. A tenant
 * principal sees only its own: another tenant is answered exactly as one that does not exist, so
 * a token learns nothing of other tenants, not even that they exist.
 */
export function visibleTenant(p: Principal, directory: StoredDirectory, ref: string): StoredTenant {
  const tenant = directory.tenants.find((t) => t.id === ref.toUpperCase()) ?? findTenant(directory, ref);
  if (tenant === undefined || !maySee(p, tenant.id)) {
    throw new RelaygateError('not-found', `tenant ${ref} does not exist`, { details: { field: 'tenant', tenant: ref } });
  }
  return tenant;
}

/** Whether the principal may see what belongs to this tenant id (null: to no tenant, server-wide). */
export function maySee(p: Principal, tenantId: TenantId | null): boolean {
  return isAdmin(p) || (tenantId !== null && tenantId === p.tenantId);
}

/** The tenants a principal sees, in directory order. */
export function visibleTenants(p: Principal, directory: StoredDirectory): StoredTenant[] {
  return directory.tenants.filter((t) => maySee(p, t.id));
}
