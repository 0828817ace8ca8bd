/**
 * The TenantSettingsStore port on SQLite: DKIM keys, outbound routes, SRS settings, quota limits
 * and the relayed-headers choice, each in its own table keyed by tenant id (ON DELETE CASCADE from
 * tenants). Triggers of migrations 006 and 009 bump tenant_settings_state.revision on every change of those tables, cascades
 * included, in the same transaction.
 */
import type { TenantId } from '../../directory/model.js';
import type { DkimKeyInfo, Route, SettingsWriteOptions, StoredDkimKey, StoredRoute, TenantSettingsState, TenantSettingsStore, TenantSrsSetting } from '../ports.js';
import { checkSettingsRevision } from '../settings-revision.js';
import { statement, type SqliteDatabase } from './database.js';
import { SqliteDkimKeys } from './dkim-keys.js';
import { SqliteQuotaLimits } from './quota-limits.js';
import { SqliteRelayedHeaders } from './relayed-headers.js';
import { SqliteSrsSettings } from './srs-settings.js';
import { SqliteTenantRoutes } from './tenant-routes.js';

export class SqliteTenantSettingsStore implements TenantSettingsStore {
  private readonly dkim: SqliteDkimKeys;
  private readonly routeRows: SqliteTenantRoutes;
  private readonly srs: SqliteSrsSettings;
  private readonly limits: SqliteQuotaLimits;
  private readonly relayedHeaders: SqliteRelayedHeaders;

  constructor(private readonly db: SqliteDatabase) {
    this.dkim = new SqliteDkimKeys(db);
    this.routeRows = new SqliteTenantRoutes(db);
    this.srs = new SqliteSrsSettings(db);
    this.limits = new SqliteQuotaLimits(db);
    this.relayedHeaders = new SqliteRelayedHeaders(db);
  }

  async revision(): Promise<number> {
    return this.currentRevision();
  }

  async read(): Promise<TenantSettingsState> {
    return this.db.transaction(() => ({
      revision: this.currentRevision(),
      dkimKeys: this.dkim.all(),
      routes: this.routeRows.list(),
      srs: this.srs.all(),
      dailyLimits: this.limits.all(),
      relayedHeaders: this.relayedHeaders.all(),
    }))();
  }

  async putDkimKey(key: StoredDkimKey, options: SettingsWriteOptions = {}): Promise<void> {
    this.guarded(options, () => this.dkim.put(key));
  }

  async dkimKeys(tenantId?: TenantId): Promise<DkimKeyInfo[]> {
    return this.dkim.list(tenantId);
  }

  async addRoute(tenantId: TenantId, route: Route, options: SettingsWriteOptions = {}): Promise<StoredRoute> {
    return this.guarded(options, () => this.routeRows.add(tenantId, route));
  }

  async routes(tenantId?: TenantId): Promise<StoredRoute[]> {
    return this.routeRows.list(tenantId);
  }

  async removeRoute(tenantId: TenantId, id: number, options: SettingsWriteOptions = {}): Promise<StoredRoute | null> {
    return this.guarded(options, () => this.routeRows.remove(tenantId, id));
  }

  async srsSetting(tenantId: TenantId): Promise<TenantSrsSetting> {
    return this.srs.settingFor(tenantId);
  }

  async setSrsSetting(tenantId: TenantId, setting: TenantSrsSetting, options: SettingsWriteOptions = {}): Promise<void> {
    this.guarded(options, () => this.srs.set(tenantId, setting));
  }

  async dailyLimit(tenantId: TenantId): Promise<number | null> {
    return this.limits.dailyLimit(tenantId);
  }

  async setDailyLimit(tenantId: TenantId, limit: number | null, options: SettingsWriteOptions = {}): Promise<void> {
    this.guarded(options, () => this.limits.set(tenantId, limit));
  }

  async keepsRelayedHeaders(tenantId: TenantId): Promise<boolean> {
    return this.relayedHeaders.keeps(tenantId);
  }

  async setRelayedHeaders(tenantId: TenantId, keep: boolean, options: SettingsWriteOptions = {}): Promise<void> {
    this.guarded(options, () => this.relayedHeaders.set(tenantId, keep));
  }

  /** The write, after checking the revision in the same IMMEDIATE transaction when one is named. */
  private guarded<T>(options: SettingsWriteOptions, write: () => T): T {
    if (options.ifRevision === undefined) return write();
    return this.db
      .transaction(() => {
        checkSettingsRevision(options.ifRevision, this.currentRevision());
        return write();
      })
      .immediate();
  }

  private currentRevision(): number {
    return statement(this.db, 'SELECT revision FROM tenant_settings_state WHERE id = 1').pluck().get() as number;
  }
}
