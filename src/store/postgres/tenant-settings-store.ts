/**
 * The TenantSettingsStore port on PostgreSQL (migrations 002 and 007): DKIM keys, outbound routes,
 * SRS settings, daily limits and the relayed-headers choice, each in its own table keyed by tenant id (ON DELETE CASCADE from
 * tenants). Triggers bump tenant_settings_state.revision on every change, cascades included, in
 * the same transaction; `read` sees every table and the revision in one snapshot.
 */
import type { TenantId } from '../../directory/model.js';
import {
  defaultSrsSetting,
  type DkimKeyInfo,
  type Route,
  type SettingsWriteOptions,
  type StoredDkimKey,
  type StoredRoute,
  type TenantSettingsState,
  type TenantSettingsStore,
  type TenantSrsSetting,
  type TlsMode,
} from '../ports.js';
import type { PgDatabase, PgQueryable } from './database.js';
import { checkSettingsRevision } from '../settings-revision.js';

interface KeyRow {
  tenant_id: string;
  domain: string;
  selector: string;
  algorithm: string;
  private_key: string;
  public_key: string;
  active: boolean;
  created_at: number;
}

interface RouteRow {
  id: number;
  tenant_id: string;
  domains: string[];
  host: string;
  port: number;
  tls: string;
  auth_user: string | null;
  auth_pass: string | null;
  client_cert: string | null;
  client_key: string | null;
}

interface SrsRow {
  tenant_id: string;
  enabled: boolean;
  rewrite_domain: string | null;
}

const tlsModes: readonly TlsMode[] = ['none', 'opportunistic', 'required', 'verify'];

function toKey(r: KeyRow): StoredDkimKey {
  return {
    tenantId: r.tenant_id,
    domain: r.domain,
    selector: r.selector,
    algorithm: r.algorithm === 'ed25519' ? 'ed25519' : 'rsa',
    privateKey: r.private_key,
    publicKey: r.public_key,
    active: r.active,
    createdAt: r.created_at,
  };
}

function toRoute(r: RouteRow): StoredRoute {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    route: {
      domains: r.domains,
      host: r.host,
      port: r.port,
      tls: tlsModes.find((m) => m === r.tls) ?? 'opportunistic',
      auth: r.auth_user !== null && r.auth_pass !== null ? { user: r.auth_user, pass: r.auth_pass } : null,
      clientCert: r.client_cert !== null && r.client_key !== null ? { cert: r.client_cert, key: r.client_key } : null,
    },
  };
}

const toSetting = (r: SrsRow): TenantSrsSetting => ({ enabled: r.enabled, rewriteDomain: r.rewrite_domain });

async function revisionOf(db: PgQueryable): Promise<number> {
  return (await db.query<{ revision: number }>('SELECT revision FROM tenant_settings_state WHERE id = 1')).rows[0]!.revision;
}

export class PgTenantSettingsStore implements TenantSettingsStore {
  constructor(private readonly db: PgDatabase) {}

  revision(): Promise<number> {
    return revisionOf(this.db);
  }

  read(): Promise<TenantSettingsState> {
    return this.db.transaction(
      async (tx) => ({
        revision: await revisionOf(tx),
        dkimKeys: (await tx.query<KeyRow>('SELECT * FROM dkim_keys ORDER BY tenant_id, domain, selector')).rows.map(toKey),
        routes: (await tx.query<RouteRow>('SELECT * FROM outbound_routes ORDER BY id')).rows.map(toRoute),
        srs: (await tx.query<SrsRow>('SELECT * FROM srs_settings ORDER BY tenant_id')).rows.map((r) => ({ tenantId: r.tenant_id, setting: toSetting(r) })),
        dailyLimits: (
          await tx.query<{ tenant_id: string; daily_recipients: number | null }>('SELECT tenant_id, daily_recipients FROM tenant_limits ORDER BY tenant_id')
        ).rows.map((r) => ({ tenantId: r.tenant_id, dailyRecipients: r.daily_recipients })),
        relayedHeaders: (
          await tx.query<{ tenant_id: string; keep: boolean }>('SELECT tenant_id, keep FROM relayed_header_settings ORDER BY tenant_id')
        ).rows.map((r) => ({ tenantId: r.tenant_id, keep: r.keep })),
      }),
      { readOnly: true },
    );
  }

  async putDkimKey(key: StoredDkimKey, options: SettingsWriteOptions = {}): Promise<void> {
    await this.guarded(options, (q) => q.query(
      `INSERT INTO dkim_keys (tenant_id, domain, selector, algorithm, private_key, public_key, active, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, domain, selector) DO UPDATE SET algorithm = excluded.algorithm,
         private_key = excluded.private_key, public_key = excluded.public_key, active = excluded.active, created_at = excluded.created_at`,
      [key.tenantId, key.domain, key.selector, key.algorithm, key.privateKey, key.publicKey, key.active, key.createdAt],
    ));
  }

  async dkimKeys(tenantId?: TenantId): Promise<DkimKeyInfo[]> {
    const { rows } =
      tenantId === undefined
        ? await this.db.query<KeyRow>('SELECT * FROM dkim_keys ORDER BY tenant_id, domain, selector')
        : await this.db.query<KeyRow>('SELECT * FROM dkim_keys WHERE tenant_id = $1 ORDER BY domain, selector', [tenantId]);
    return rows.map((r) => {
      const { privateKey: _omit, ...rest } = toKey(r);
      return rest;
    });
  }

  async addRoute(tenantId: TenantId, route: Route, options: SettingsWriteOptions = {}): Promise<StoredRoute> {
    const { rows } = await this.guarded(options, (q) => q.query<RouteRow>(
      `INSERT INTO outbound_routes (tenant_id, domains, host, port, tls, auth_user, auth_pass, client_cert, client_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [tenantId, route.domains, route.host, route.port, route.tls, route.auth?.user ?? null, route.auth?.pass ?? null,
        route.clientCert?.cert ?? null, route.clientCert?.key ?? null],
    ));
    return toRoute(rows[0]!);
  }

  async routes(tenantId?: TenantId): Promise<StoredRoute[]> {
    const { rows } =
      tenantId === undefined
        ? await this.db.query<RouteRow>('SELECT * FROM outbound_routes ORDER BY id')
        : await this.db.query<RouteRow>('SELECT * FROM outbound_routes WHERE tenant_id = $1 ORDER BY id', [tenantId]);
    return rows.map(toRoute);
  }

  async removeRoute(tenantId: TenantId, id: number, options: SettingsWriteOptions = {}): Promise<StoredRoute | null> {
    const { rows } = await this.guarded(options, (q) => q.query<RouteRow>('DELETE FROM outbound_routes WHERE tenant_id = $1 AND id = $2 RETURNING *', [tenantId, id]));
    return rows[0] ? toRoute(rows[0]) : null;
  }

  async srsSetting(tenantId: TenantId): Promise<TenantSrsSetting> {
    const { rows } = await this.db.query<SrsRow>('SELECT * FROM srs_settings WHERE tenant_id = $1', [tenantId]);
    return rows[0] ? toSetting(rows[0]) : { ...defaultSrsSetting };
  }

  async setSrsSetting(tenantId: TenantId, setting: TenantSrsSetting, options: SettingsWriteOptions = {}): Promise<void> {
    await this.guarded(options, (q) => q.query(
      `INSERT INTO srs_settings (tenant_id, enabled, rewrite_domain) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET enabled = excluded.enabled, rewrite_domain = excluded.rewrite_domain`,
      [tenantId, setting.enabled, setting.rewriteDomain],
    ));
  }

  async dailyLimit(tenantId: TenantId): Promise<number | null> {
    const { rows } = await this.db.query<{ daily_recipients: number | null }>('SELECT daily_recipients FROM tenant_limits WHERE tenant_id = $1', [tenantId]);
    return rows[0]?.daily_recipients ?? null;
  }

  async setDailyLimit(tenantId: TenantId, limit: number | null, options: SettingsWriteOptions = {}): Promise<void> {
    await this.guarded(options, (q) => q.query(
      'INSERT INTO tenant_limits (tenant_id, daily_recipients) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET daily_recipients = excluded.daily_recipients',
      [tenantId, limit],
    ));
  }

  async keepsRelayedHeaders(tenantId: TenantId): Promise<boolean> {
    const { rows } = await this.db.query<{ keep: boolean }>('SELECT keep FROM relayed_header_settings WHERE tenant_id = $1', [tenantId]);
    return rows[0]?.keep === true;
  }

  async setRelayedHeaders(tenantId: TenantId, keep: boolean, options: SettingsWriteOptions = {}): Promise<void> {
    await this.guarded(options, (q) => q.query(
      'INSERT INTO relayed_header_settings (tenant_id, keep) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET keep = excluded.keep',
      [tenantId, keep],
    ));
  }

  /** The write on the pool, or, when a revision is named, in a transaction that locks the settings state and checks it first. */
  private guarded<T>(options: SettingsWriteOptions, write: (q: PgQueryable) => Promise<T>): Promise<T> {
    if (options.ifRevision === undefined) return write(this.db);
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ revision: number }>('SELECT revision FROM tenant_settings_state WHERE id = 1 FOR UPDATE');
      checkSettingsRevision(options.ifRevision, rows[0]!.revision);
      return write(tx);
    });
  }
}
