/**
 * Opens the stores the configuration names. The only place that knows which adapter backs which
 * port: add a store by adding a field to Stores and one line below.
 */
import { join } from 'node:path';
import type { RelaygateConfig } from '../config/index.js';
import type { BodyStore, DirectoryStore } from '../store/ports.js';
import { FileBodyStore } from '../store/filesystem/body-store.js';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/database.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';

export interface Stores {
  /** The SQLite database, for adapters that share it. */
  db: SqliteDatabase;
  directory: DirectoryStore;
  /** The queue's accept side and listing (SMTP front end); delivery extends it. */
  queue: SqliteQueueStore;
  /** Message bodies: files under `<dataDir>/spool`. */
  bodies: BodyStore;
  close(): void;
}

export const SQLITE_FILE = 'relaygate.db';
export const SPOOL_DIR = 'spool';

export class UnsupportedStoreError extends Error {
  constructor(store: string) {
    super(`store ${redact(store)} is not supported yet: use "sqlite"`);
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

/** Opens (creating and migrating) the database under config.dataDir and builds every store on it. */
export function openStores(config: Pick<RelaygateConfig, 'dataDir' | 'store'>): Stores {
  if (config.store !== 'sqlite') throw new UnsupportedStoreError(config.store);
  const db = openSqlite(sqlitePath(config));
  return {
    db,
    directory: new SqliteDirectoryStore(db),
    queue: new SqliteQueueStore(db),
    bodies: new FileBodyStore(join(config.dataDir, SPOOL_DIR)),
    close: () => db.close(),
  };
}
