/**
 * Per-tenant outbound routes (table outbound_routes, migrations 003 and 006). Passwords and private
 * keys are stored as given; the commands never print them.
 */
import type { TenantId } from '../../directory/model.js';
import type { Route, StoredRoute, TlsMode } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

interface RouteRow {
  id: number; tenant_id: string; domains: string; host: string; port: number; tls: string;
  auth_user: string | null; auth_pass: string | null; client_cert: string | null; client_key: string | null;
}

const tlsModes: readonly TlsMode[] = ['none', 'opportunistic', 'required', 'verify'];

export class SqliteTenantRoutes {
  constructor(private readonly db: SqliteDatabase) {}

  add(tenantId: TenantId, route: Route): StoredRoute {
    const result = statement(
      this.db,
      `INSERT INTO outbound_routes (tenant_id, domains, host, port, tls, auth_user, auth_pass, client_cert, client_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(tenantId, JSON.stringify(route.domains), route.host, route.port, route.tls, route.auth?.user ?? null, route.auth?.pass ?? null,
      route.clientCert?.cert ?? null, route.clientCert?.key ?? null);
    return { id: Number(result.lastInsertRowid), tenantId, route: { ...route, auth: route.auth ?? null, clientCert: route.clientCert ?? null } };
  }

  /** Routes of one tenant, or of all, in id order (routing prefers the older of two equal routes). */
  list(tenantId?: TenantId): StoredRoute[] {
    const rows = (tenantId === undefined
      ? statement(this.db, 'SELECT * FROM outbound_routes ORDER BY id').all()
      : statement(this.db, 'SELECT * FROM outbound_routes WHERE tenant_id = ? ORDER BY id').all(tenantId)) as RouteRow[];
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, route: toRoute(r) }));
  }

  remove(tenantId: TenantId, id: number): StoredRoute | null {
    const row = statement(this.db, 'DELETE FROM outbound_routes WHERE tenant_id = ? AND id = ? RETURNING *').get(tenantId, id) as RouteRow | undefined;
    return row ? { id: row.id, tenantId: row.tenant_id, route: toRoute(row) } : null;
  }
}

function toRoute(r: RouteRow): Route {
  const domains: unknown = JSON.parse(r.domains);
  return {
    domains: Array.isArray(domains) ? domains.filter((d): d is string => typeof d === 'string') : [],
    host: r.host,
    port: r.port,
    tls: tlsModes.find((m) => m === r.tls) ?? 'opportunistic',
    auth: r.auth_user !== null && r.auth_pass !== null ? { user: r.auth_user, pass: r.auth_pass } : null,
    clientCert: r.client_cert !== null && r.client_key !== null ? { cert: r.client_cert, key: r.client_key } : null,
  };
}
