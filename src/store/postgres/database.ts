/**
 * relaygate's connections to PostgreSQL: one pool per process, sessions with a statement timeout
 * and an idle-in-transaction timeout (so a stuck or paused node cannot hold locks and snapshots
 * for long), transactions as a function, and the versioned migrations applied under an advisory
 * lock so that several nodes starting at once apply each exactly once.
 */
import pg from 'pg';
import { migrations as allMigrations, type PostgresMigration } from './migrations/index.js';

export interface PostgresOptions {
  /** Connections this process keeps at most. */
  poolSize: number;
  /** A statement running longer is cancelled (milliseconds; 0: no limit). */
  statementTimeoutMs: number;
  /** A session idle inside a transaction longer is ended by the server (milliseconds; 0: no limit). */
  idleInTransactionTimeoutMs: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

export const defaultPostgresOptions: PostgresOptions = Object.freeze({
  poolSize: 10,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  applicationName: 'relaygate',
});

/** The connection a transaction runs on: queries only, no BEGIN/COMMIT of its own. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface TransactionOptions {
  /** A read-only transaction that sees one snapshot throughout (REPEATABLE READ). */
  readOnly?: boolean;
}

/** int8 (bigint, count(*)) as a number: relaygate's counters and epoch milliseconds are far below 2^53. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`a bigint from PostgreSQL does not fit a number: ${text}`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export class PgDatabase implements PgQueryable {
  constructor(readonly pool: pg.Pool) {}

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: PgQueryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // The server may end the session while it is checked out (idle-in-transaction timeout, a
    // restart): the error then comes from the next query; unheard, the event would crash the process.
    const lost = (): void => {
      broken = true;
    };
    client.on('error', lost);
    try {
      await client.query(options.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone: the server rolled back; do not reuse it
      }
      throw err;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface AppliedMigration {
  version: number;
  name: string;
  /** ISO 8601. */
  appliedAt: string;
}

/** A key no other use of advisory locks in the database is likely to pick ("relaygate" in ASCII, truncated). */
const MIGRATION_LOCK = 0x72656c6179;

/**
 * Applies the pending migrations of `list`, each in its own transaction, while holding an advisory
 * lock: a second node starting at the same time waits, then finds nothing left to do. Returns the
 * versions this call applied.
 */
export async function migrate(db: PgDatabase, list: readonly PostgresMigration[] = allMigrations): Promise<number[]> {
  const client = await db.pool.connect();
  let broken = false;
  const lost = (): void => {
    broken = true;
  };
  client.on('error', lost);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const ran: number[] = [];
      for (const m of list) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          // A schema change may take longer than the sessions' statement timeout allows queries.
          await client.query('SET LOCAL statement_timeout = 0');
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        ran.push(m.version);
      }
      return ran;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    client.off('error', lost);
    client.release(broken);
  }
}

export async function appliedMigrations(db: PgQueryable): Promise<AppliedMigration[]> {
  const { rows } = await db.query<{ version: number; name: string; applied_at: Date }>(
    'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at.toISOString() }));
}

/**
 * Connects to `url` with a pool of `options.poolSize` sessions and applies pending migrations.
 * The pool's sessions carry the timeouts from the first statement on (startup parameters).
 */
export async function openPostgres(url: string, options: Partial<PostgresOptions> = {}): Promise<PgDatabase> {
  const o = { ...defaultPostgresOptions, ...options };
  const pool = new pg.Pool({
    connectionString: url,
    max: o.poolSize,
    statement_timeout: o.statementTimeoutMs,
    idle_in_transaction_session_timeout: o.idleInTransactionTimeoutMs,
    application_name: o.applicationName,
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle session that the server ends (restart, idle timeout) must not crash the process: the
  // pool drops it, and the next query opens a new one or fails where it can be answered.
  pool.on('error', () => {});
  const db = new PgDatabase(pool);
  try {
    await migrate(db);
    return db;
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
