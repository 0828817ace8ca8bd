import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations, type Migration } from './migrations/index.js';
import { RelaygateError } from '../../core/errors.js';

export type SqliteDatabase = Database.Database;

/**
 * Statements compiled once per database handle and SQL text. better-sqlite3 compiles on every
 * prepare(); on the hot paths (every RCPT, every delivered message) that cost showed in profiles.
 */
const statementCaches = new WeakMap<SqliteDatabase, Map<string, Database.Statement>>();
export function statement(db: SqliteDatabase, sql: string): Database.Statement {
  let cache = statementCaches.get(db);
  if (!cache) statementCaches.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
}

/** SQLite's result codes for a database that cannot be used now; SQLITE_ERROR, _CONSTRAINT, _MISUSE are bugs. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CORRUPT|CANTOPEN|NOTADB|PERM|PROTOCOL|NOMEM)/;

/**
 * A failure of SQLite itself as a store error: `store-full` when its disk is full (SQLITE_FULL, and
 * the I/O errors that mean ENOSPC), `store-unavailable` when it is busy, locked, read-only, corrupt or
 * failing I/O. Any other error (a bug: SQLITE_ERROR, _CONSTRAINT, _MISUSE) is returned as it is.
 */
export function sqliteFailure(err: unknown): unknown {
  if (err instanceof RelaygateError || !(err instanceof Error)) return err;
  const driverCode = (err as Error & { code?: unknown }).code;
  if (err.name !== 'SqliteError' || typeof driverCode !== 'string' || !UNAVAILABLE.test(driverCode)) return err;
  const full = driverCode === 'SQLITE_FULL' || driverCode.startsWith('SQLITE_FULL_');
  return new RelaygateError(full ? 'store-full' : 'store-unavailable', err.message, { details: { driverCode }, cause: err });
}

/**
 * Opens (creating if needed) the relay's SQLite file in WAL mode and applies pending migrations.
 * `synchronous = FULL` so a committed transaction is on disk before the call returns: the queue's
 * durability promise (architecture.md, Storage) rests on it.
 */
export function openSqlite(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Applies the pending migrations of `list` (all of them by default); returns the versions applied. */
export function migrate(db: SqliteDatabase, list: readonly Migration[] = migrations): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((r) => (r as { version: number }).version),
  );
  const ran: number[] = [];
  for (const m of list) {
    if (applied.has(m.version)) continue;
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) === 1;
    // PRAGMA foreign_keys is a no-op inside a transaction: it is switched around the transaction.
    if (m.rebuildsTables && foreignKeys) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if (m.sql !== undefined) db.exec(m.sql);
        m.up?.(db);
        if (m.rebuildsTables) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`migration ${m.version} ${m.name} left ${broken.length} rows with a broken reference`);
        }
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          new Date().toISOString(),
        );
      })();
    } finally {
      if (m.rebuildsTables && foreignKeys) db.pragma('foreign_keys = ON');
    }
    ran.push(m.version);
  }
  return ran;
}
