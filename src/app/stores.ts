/**
 * Opens the stores the configuration names: `sqlite` (one file under dataDir, bodies in the spool
 * beside it) or a postgres:// URL (everything in that database, shared by every node). The only
 * place that knows which adapter backs which port: add a store by adding a field to Stores and a
 * line for each adapter below.
 */
import { join } from 'node:path';
import type { RelaygateConfig } from '../config/index.js';
import type { AuditLog, BodyStore, ConnectorHealthStore, DecisionStore, DestinationBudget, DirectoryStore, QueueAdminStore, QueueStatsStore, QueueStore, QuotaCounters, ServerSecrets, SrsMintedStore, TenantSettingsStore, TokenStore, TraceStore, WebhookStore } from '../store/ports.js';
import { FileBodyStore } from '../store/filesystem/body-store.js';
import { openSqlite, sqliteFailure, type SqliteDatabase } from '../store/sqlite/database.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { SqliteDecisionStore } from '../store/sqlite/decision-store.js';
import { SqliteQueueAdminStore } from '../store/sqlite/queue-admin-store.js';
import { SqliteQueueStatsStore } from '../store/sqlite/queue-stats.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import { SqliteSrsMintedStore } from '../store/sqlite/srs-minted-store.js';
import { SqliteQuotaCounters } from '../store/sqlite/quota-counters.js';
import { SqliteDestinationBudget } from '../store/sqlite/destination-budget.js';
import { SqliteServerSecrets } from '../store/sqlite/server-secrets.js';
import { SqliteTenantSettingsStore } from '../store/sqlite/tenant-settings-store.js';
import { SqliteAuditLog, SqliteTokenStore } from '../store/sqlite/access-stores.js';
import { SqliteConnectorHealthStore } from '../store/sqlite/connector-health-store.js';
import { SqliteTraceStore } from '../store/sqlite/trace-store.js';
import { SqliteWebhookStore } from '../store/sqlite/webhook-store.js';
import { openPostgres, appliedMigrations as postgresMigrations, type PgDatabase, type PostgresOptions } from '../store/postgres/database.js';
import { PgBodyStore } from '../store/postgres/body-store.js';
import { PgDecisionStore } from '../store/postgres/decision-store.js';
import { PgDirectoryStore } from '../store/postgres/directory-store.js';
import { PgQueueAdminStore } from '../store/postgres/queue-admin-store.js';
import { PgQueueStatsStore } from '../store/postgres/queue-stats.js';
import { PgQueueStore } from '../store/postgres/queue-store.js';
import { postgresFailure } from '../store/postgres/errors.js';
import { PgQuotaCounters } from '../store/postgres/quota-counters.js';
import { PgDestinationBudget } from '../store/postgres/destination-budget.js';
import { PgServerSecrets } from '../store/postgres/server-secrets.js';
import { PgSrsMintedStore } from '../store/postgres/srs-minted-store.js';
import { PgTenantSettingsStore } from '../store/postgres/tenant-settings-store.js';
import { PgAuditLog, PgTokenStore } from '../store/postgres/access-stores.js';
import { PgConnectorHealthStore } from '../store/postgres/connector-health-store.js';
import { PgTraceStore } from '../store/postgres/trace-store.js';
import { PgWebhookStore } from '../store/postgres/webhook-store.js';
import { messageOf, RelaygateError } from '../core/errors.js';
import { newTenantId } from './ids.js';

export interface Stores {
  /** Where the data is, for people: the SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  directory: DirectoryStore;
  /** The queue: acceptance (SMTP front end) and delivery. */
  queue: QueueStore;
  /** The operator's side of the queue (queue/admin.ts). */
  queueAdmin: QueueAdminStore;
  /** Counts over the whole queue (the metrics read them at scrape time). */
  queueStats: QueueStatsStore;
  /** The decision log (trace, impact report). */
  decisions: DecisionStore;
  /** The message trace: typed events, searched and pruned (written with the queue's changes). */
  trace: TraceStore;
  /** Message bodies: files under `<dataDir>/spool`. */
  bodies: BodyStore;
  /** SRS addresses delivery minted; the SMTP front end checks bounces against them. */
  srsMinted: SrsMintedStore;
  /** DKIM keys, outbound routes, SRS settings and quota limits, by tenant id. */
  tenantSettings: TenantSettingsStore;
  /** Daily recipient counts (the quota's atomic add-and-check). */
  counters: QuotaCounters;
  /** Each destination's connection slots and message rate, for all nodes on the store together. */
  destinationBudget: DestinationBudget;
  secrets: ServerSecrets;
  /** The admin API's tokens (hashes only) and its audit log of writes. */
  tokens: TokenStore;
  audit: AuditLog;
  /** Per connector: traffic per day, client certificates and source addresses seen (connector health). */
  connectorHealth: ConnectorHealthStore;
  /** Tenants' webhook subscriptions, the outbox the trace's writes fill, and the delivery log. */
  webhooks: WebhookStore;
  /** The schema migrations applied to the database, in order. */
  migrations(): Promise<AppliedMigration[]>;
  close(): Promise<void>;
}

export interface AppliedMigration {
  version: number;
  name: string;
  /** ISO 8601. */
  appliedAt: string;
}

/** The SQLite stores, with the database itself for what reads it directly (tests). */
export interface SqliteStores extends Stores {
  db: SqliteDatabase;
}

export const SQLITE_FILE = 'relaygate.db';
export const SPOOL_DIR = 'spool';

/** Hides a password in a store URL before it reaches a message. */
export function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export function sqlitePath(config: Pick<RelaygateConfig, 'dataDir'>): string {
  return join(config.dataDir, SQLITE_FILE);
}

type StoreConfig = Pick<RelaygateConfig, 'dataDir' | 'store'> & Partial<Pick<RelaygateConfig, 'postgres'>>;

/**
 * Opens (creating and migrating) the configured database and builds every store on it. Whatever
 * stops the opening is `store-unavailable` (or `store-full`), never a bug of the caller's.
 */
export async function openStores(config: StoreConfig): Promise<Stores> {
  return config.store === 'sqlite' ? openSqliteStores(config) : openPostgresStores(config);
}

/** The SQLite stores under config.dataDir (synchronous: better-sqlite3 is). */
export function openSqliteStores(config: Pick<RelaygateConfig, 'dataDir'>): SqliteStores {
  let db: SqliteDatabase | undefined;
  try {
    db = openSqlite(sqlitePath(config));
    const opened = db;
    return {
      location: sqlitePath(config),
      db: opened,
      directory: new SqliteDirectoryStore(opened),
      queue: new SqliteQueueStore(opened),
      queueAdmin: new SqliteQueueAdminStore(opened),
      queueStats: new SqliteQueueStatsStore(opened),
      decisions: new SqliteDecisionStore(opened),
      trace: new SqliteTraceStore(opened),
      bodies: new FileBodyStore(join(config.dataDir, SPOOL_DIR)),
      srsMinted: new SqliteSrsMintedStore(opened),
      tenantSettings: new SqliteTenantSettingsStore(opened),
      counters: new SqliteQuotaCounters(opened),
      destinationBudget: new SqliteDestinationBudget(opened),
      secrets: new SqliteServerSecrets(opened),
      tokens: new SqliteTokenStore(opened),
      audit: new SqliteAuditLog(opened),
      connectorHealth: new SqliteConnectorHealthStore(opened),
      webhooks: new SqliteWebhookStore(opened),
      migrations: async () =>
        (opened.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as Array<{
          version: number;
          name: string;
          applied_at: string;
        }>).map((m) => ({ version: m.version, name: m.name, appliedAt: m.applied_at })),
      close: async () => {
        if (opened.open) opened.close();
      },
    };
  } catch (err) {
    db?.close();
    const failure = sqliteFailure(err);
    const code = failure instanceof RelaygateError && failure.code === 'store-full' ? 'store-full' : 'store-unavailable';
    throw new RelaygateError(code, messageOf(err), { details: { database: sqlitePath(config) }, cause: err });
  }
}

/** This node's pool and session settings from relaygate.yaml's `postgres` block (defaults without one). */
export function postgresOptions(config: Partial<Pick<RelaygateConfig, 'postgres'>>): Partial<PostgresOptions> {
  if (!config.postgres) return {};
  return {
    poolSize: config.postgres.poolSize,
    statementTimeoutMs: config.postgres.statementTimeout,
    idleInTransactionTimeoutMs: config.postgres.idleInTransactionTimeout,
  };
}

/**
 * The PostgreSQL stores on the database at config.store, this node's pool sized and its sessions'
 * timeouts set by config.postgres: every port, bodies included, so nodes share everything.
 */
async function openPostgresStores(config: StoreConfig): Promise<Stores> {
  const location = redactStoreUrl(config.store);
  let db: PgDatabase;
  try {
    db = await openPostgres(config.store, postgresOptions(config));
  } catch (err) {
    const failure = postgresFailure(err);
    const code = failure instanceof RelaygateError && failure.code === 'store-full' ? 'store-full' : 'store-unavailable';
    throw new RelaygateError(code, `${location}: ${messageOf(err)}`, { details: { database: location }, cause: err });
  }
  let closed: Promise<void> | undefined;
  return {
    location,
    directory: new PgDirectoryStore(db, newTenantId),
    queue: new PgQueueStore(db),
    queueAdmin: new PgQueueAdminStore(db),
    queueStats: new PgQueueStatsStore(db),
    decisions: new PgDecisionStore(db),
    trace: new PgTraceStore(db),
    bodies: new PgBodyStore(db),
    srsMinted: new PgSrsMintedStore(db),
    tenantSettings: new PgTenantSettingsStore(db),
    counters: new PgQuotaCounters(db),
    destinationBudget: new PgDestinationBudget(db),
    secrets: new PgServerSecrets(db),
    tokens: new PgTokenStore(db),
    audit: new PgAuditLog(db),
    connectorHealth: new PgConnectorHealthStore(db),
    webhooks: new PgWebhookStore(db),
    migrations: () => postgresMigrations(db),
    close: () => (closed ??= db.close()),
  };
}

/**
 * A failure of the adapter itself (SQLite: busy, locked, read-only, I/O, corrupt; PostgreSQL: the
 * server unreachable, shutting down, out of connections, a timeout) as `store-unavailable`, a full
 * disk as `store-full`; any other error is returned as it is.
 */
export function asStoreFailure(err: unknown): unknown {
  return postgresFailure(sqliteFailure(err));
}
