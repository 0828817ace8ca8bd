/**
 * Delivery's directory data on SQLite (migration 003): DKIM keys, per-tenant outbound routes,
 * per-tenant SRS settings and the server's secrets. Read at delivery time, so changes need no restart.
 */
import { randomBytes } from 'node:crypto';
import type { DkimKey, DkimKeySource } from '../../delivery/dkim.js';
import type { Route, TenantRouteSource, TlsMode } from '../../delivery/routing.js';
import { statement, type SqliteDatabase } from './database.js';

interface KeyRow {
  tenant: string; domain: string; selector: string; algorithm: string; private_key: string; public_key: string;
}

export class SqliteDkimKeys implements DkimKeySource {
  constructor(private readonly db: SqliteDatabase) {}

  /** Adds or replaces the key of (tenant, domain, selector); other selectors of the domain stay. */
  put(key: DkimKey, now: number): void {
    this.db
      .prepare(
        `INSERT INTO dkim_keys (tenant, domain, selector, algorithm, private_key, public_key, active, created_at)
         VALUES (@tenant, @domain, @selector, @algorithm, @privateKey, @publicKey, 1, @now)
         ON CONFLICT (tenant, domain, selector) DO UPDATE SET algorithm = excluded.algorithm,
           private_key = excluded.private_key, public_key = excluded.public_key, active = 1, created_at = excluded.created_at`,
      )
      .run({ ...key, now });
  }

  /** The newest active key of the domain. */
  activeKey(tenant: string, domain: string): DkimKey | null {
    const row = statement(this.db, 'SELECT * FROM dkim_keys WHERE tenant = ? AND domain = ? AND active = 1 ORDER BY created_at DESC, selector LIMIT 1').get(tenant, domain) as KeyRow | undefined;
    return row ? toKey(row) : null;
  }

  list(tenant?: string): Array<Omit<DkimKey, 'privateKey'>> {
    const rows = (tenant
      ? this.db.prepare('SELECT * FROM dkim_keys WHERE tenant = ? ORDER BY domain, selector').all(tenant)
      : this.db.prepare('SELECT * FROM dkim_keys ORDER BY tenant, domain, selector').all()) as KeyRow[];
    return rows.map((r) => {
      const { privateKey: _omit, ...rest } = toKey(r);
      return rest;
    });
  }
}

function toKey(r: KeyRow): DkimKey {
  return {
    tenant: r.tenant, domain: r.domain, selector: r.selector, algorithm: r.algorithm === 'ed25519' ? 'ed25519' : 'rsa',
    privateKey: r.private_key, publicKey: r.public_key,
  };
}

interface RouteRow {
  id: number; tenant: string; domains: string; host: string; port: number; tls: string;
  auth_user: string | null; auth_pass: string | null; client_cert: string | null; client_key: string | null;
}

const tlsModes: readonly TlsMode[] = ['none', 'opportunistic', 'required', 'verify'];

/** A tenant route as stored, with the id `relaygate route remove` takes. */
export interface StoredRoute {
  id: number;
  tenant: string;
  route: Route;
}

export class SqliteTenantRoutes implements TenantRouteSource {
  constructor(private readonly db: SqliteDatabase) {}

  /** Stores the route and returns its id. */
  add(tenant: string, route: Route): number {
    const result = this.db
      .prepare(
        `INSERT INTO outbound_routes (tenant, domains, host, port, tls, auth_user, auth_pass, client_cert, client_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(tenant, JSON.stringify(route.domains), route.host, route.port, route.tls, route.auth?.user ?? null, route.auth?.pass ?? null,
        route.clientCert?.cert ?? null, route.clientCert?.key ?? null);
    return Number(result.lastInsertRowid);
  }

  routesFor(tenant: string): Route[] {
    const rows = this.db.prepare('SELECT * FROM outbound_routes WHERE tenant = ? ORDER BY id').all(tenant) as RouteRow[];
    return rows.map(toRoute);
  }

  /** Every route (of one tenant, or of all by tenant), in the order routing reads them. */
  list(tenant?: string): StoredRoute[] {
    const rows = (tenant === undefined
      ? this.db.prepare('SELECT * FROM outbound_routes ORDER BY tenant, id').all()
      : this.db.prepare('SELECT * FROM outbound_routes WHERE tenant = ? ORDER BY id').all(tenant)) as RouteRow[];
    return rows.map((r) => ({ id: r.id, tenant: r.tenant, route: toRoute(r) }));
  }

  /** Removes the tenant's route `id`; false when the tenant has no such route. */
  remove(tenant: string, id: number): boolean {
    return this.db.prepare('DELETE FROM outbound_routes WHERE tenant = ? AND id = ?').run(tenant, id).changes > 0;
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

export interface TenantSrsSetting {
  enabled: boolean;
  /** null: the server's default rewrite domain. */
  rewriteDomain: string | null;
}

export class SqliteSrsSettings {
  constructor(private readonly db: SqliteDatabase) {}

  /** On by default for every tenant (issue 4). */
  settingFor(tenant: string): TenantSrsSetting {
    const row = this.db.prepare('SELECT enabled, rewrite_domain FROM srs_settings WHERE tenant = ?').get(tenant) as
      | { enabled: number; rewrite_domain: string | null }
      | undefined;
    return row ? { enabled: row.enabled === 1, rewriteDomain: row.rewrite_domain } : { enabled: true, rewriteDomain: null };
  }

  /** Every rewrite domain a tenant names (the server's default comes on top). */
  rewriteDomains(): string[] {
    return this.db.prepare('SELECT DISTINCT rewrite_domain FROM srs_settings WHERE rewrite_domain IS NOT NULL').pluck().all() as string[];
  }

  set(tenant: string, setting: TenantSrsSetting): void {
    this.db
      .prepare(
        `INSERT INTO srs_settings (tenant, enabled, rewrite_domain) VALUES (?, ?, ?)
         ON CONFLICT (tenant) DO UPDATE SET enabled = excluded.enabled, rewrite_domain = excluded.rewrite_domain`,
      )
      .run(tenant, setting.enabled ? 1 : 0, setting.rewriteDomain);
  }

  /** A server secret, made (32 random bytes) the first time it is asked for and kept. */
  secret(name: string, now: number): string {
    this.db
      .prepare('INSERT INTO delivery_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(name, randomBytes(32).toString('base64url'), now);
    return (this.db.prepare('SELECT value FROM delivery_secrets WHERE name = ?').pluck().get(name) as string);
  }
}

/** Daily recipient quotas and their counts (migration 004). */
export class SqliteQuotaStore {
  constructor(private readonly db: SqliteDatabase) {}

  setDailyLimit(tenant: string, limit: number | null): void {
    this.db
      .prepare('INSERT INTO tenant_limits (tenant, daily_recipients) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET daily_recipients = excluded.daily_recipients')
      .run(tenant, limit);
  }

  dailyLimit(tenant: string): number | null {
    const v = statement(this.db, 'SELECT daily_recipients FROM tenant_limits WHERE tenant = ?').pluck().get(tenant);
    return typeof v === 'number' ? v : null;
  }

  count(tenant: string, day: string): number {
    const v = statement(this.db, 'SELECT recipients FROM tenant_recipient_counts WHERE tenant = ? AND day = ?').pluck().get(tenant, day);
    return typeof v === 'number' ? v : 0;
  }

  save(counts: ReadonlyArray<{ tenant: string; day: string; recipients: number }>): void {
    const upsert = this.db.prepare(
      `INSERT INTO tenant_recipient_counts (tenant, day, recipients) VALUES (@tenant, @day, @recipients)
       ON CONFLICT (tenant, day) DO UPDATE SET recipients = MAX(recipients, excluded.recipients)`,
    );
    this.db.transaction(() => {
      for (const c of counts) upsert.run(c);
    })();
  }
}
