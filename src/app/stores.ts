/**
 * Opens the stores the configuration names. The only place that knows which adapter backs which
 * port: add a store by adding a field to Stores and one line below.
 */
import { join } from 'node:path';
import type { RelaygateConfig } from '../config/index.js';
import type { BodyStore, DecisionStore, DirectoryStore, QueueAdminStore, QueueStore, QuotaCounters, ServerSecrets, SrsMintedStore, TenantSettingsStore } from '../store/ports.js';
import { FileBodyStore } from '../store/filesystem/body-store.js';
import { openSqlite, sqliteFailure, type SqliteDatabase } from '../store/sqlite/database.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { SqliteDecisionStore } from '../store/sqlite/decision-store.js';
import { SqliteQueueAdminStore } from '../store/sqlite/queue-admin-store.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import { SqliteSrsMintedStore } from '../store/sqlite/srs-minted-store.js';
import { SqliteQuotaCounters } from '../store/sqlite/quota-counters.js';
import { SqliteServerSecrets } from '../store/sqlite/server-secrets.js';
import { SqliteTenantSettingsStore } from '../store/sqlite/tenant-settings-store.js';
import { messageOf, RelaygateError } from '../core/errors.js';

export interface Stores {
  /** The SQLite database, for adapters that share it. */
  db: SqliteDatabase;
  directory: DirectoryStore;
  /** The queue: acceptance (SMTP front end) and delivery. */
  queue: QueueStore;
  /** The operator's side of the queue (queue/admin.ts). */
  queueAdmin: QueueAdminStore;
  /** The decision log (trace, impact report). */
  decisions: DecisionStore;
  /** Message bodies: files under `<dataDir>/spool`. */
  bodies: BodyStore;
  /** SRS addresses delivery minted; the SMTP front end checks bounces against them. */
  srsMinted: SrsMintedStore;
  /** DKIM keys, outbound routes, SRS settings and quota limits, by tenant id. */
  tenantSettings: TenantSettingsStore;
  /** Daily recipient counts (the quota's atomic add-and-check). */
  counters: QuotaCounters;
  secrets: ServerSecrets;
  close(): void;
}

export const SQLITE_FILE = 'relaygate.db';
export const SPOOL_DIR = 'spool';

export class UnsupportedStoreError extends RelaygateError {
  constructor(store: string) {
    super('unsupported', `store ${redact(store)} is not supported yet: use "sqlite"`, { details: { store: redact(store) } });
    this.name = 'UnsupportedStoreError';
  }
}

/** Hides a password in a store URL before it reaches a message. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export function sqlitePath(config: Pick<RelaygateConfig, 'dataDir'>): string {
  return join(config.dataDir, SQLITE_FILE);
}

/**
 * Opens (creating and migrating) the database under config.dataDir and builds every store on it.
 * Whatever stops the opening is `store-unavailable` (or `unsupported`), never a bug of the caller's.
 */
export function openStores(config: Pick<RelaygateConfig, 'dataDir' | 'store'>): Stores {
  if (config.store !== 'sqlite') throw new UnsupportedStoreError(config.store);
  let db: SqliteDatabase | undefined;
  try {
    db = openSqlite(sqlitePath(config));
    const opened = db;
    return {
      db: opened,
      directory: new SqliteDirectoryStore(opened),
      queue: new SqliteQueueStore(opened),
      queueAdmin: new SqliteQueueAdminStore(opened),
      decisions: new SqliteDecisionStore(opened),
      bodies: new FileBodyStore(join(config.dataDir, SPOOL_DIR)),
      srsMinted: new SqliteSrsMintedStore(opened),
      tenantSettings: new SqliteTenantSettingsStore(opened),
      counters: new SqliteQuotaCounters(opened),
      secrets: new SqliteServerSecrets(opened),
      close: () => opened.close(),
    };
  } catch (err) {
    db?.close();
    throw new RelaygateError('store-unavailable', messageOf(err), { details: { database: sqlitePath(config) }, cause: err });
  }
}

/**
 * A failure of the adapter itself (SQLite: busy, locked, read-only, I/O, corrupt) as
 * `store-unavailable`, a full disk as `store-full`; any other error is returned as it is.
 */
export function asStoreFailure(err: unknown): unknown {
  return sqliteFailure(err);
}
