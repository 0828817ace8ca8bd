import { open } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { statement, type SqliteDatabase } from './database.js';

interface Waiting {
  apply: () => unknown;
  /** Takes the write back when its commit could not be made durable (see flush). */
  undo: (() => void) | undefined;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of the writes that arrive in the same turn of the event loop, whatever port they
 * come from (acceptance's rounds, delivery's outcomes): each caller gets its own result once ONE
 * immediate transaction holding all of them is durable. When the shared transaction fails, each
 * write is tried in a transaction of its own, so one bad write fails only its caller.
 *
 * Durable without blocking: on a WAL database the transaction commits with `synchronous = NORMAL`
 * (its frames written to the WAL, no fsync on the event loop), then the WAL file is fdatasync'ed
 * on libuv's thread pool, and only then are the callers answered: the same promise as
 * `synchronous = FULL` (which fsyncs the WAL at each commit), while the next sessions keep being
 * served, and one fdatasync covers every commit made before it started. A failed fdatasync fails
 * its callers, and the writes that can be taken back (an accepted message) are taken back in a
 * transaction with `synchronous = FULL`. Every other transaction on the connection stays FULL.
 */
export class TickBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly wal: WalSync | null;
  /** Transactions committed so far (tests and benchmarks read it). */
  commits = 0;

  constructor(
    private readonly db: SqliteDatabase,
    options: TickBatcherOptions = {},
  ) {
    const wal = !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.wal = wal ? new WalSync(resolvePath(db.name) + '-wal', options.syncWal ?? datasyncFile) : null;
  }

  /** `apply` runs inside the shared transaction; it must not start one of its own. */
  run<R>(apply: () => R, undo?: () => void): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ apply, undo, resolve: resolve as (r: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.scheduled = false;
    const done: Array<{ w: Waiting; result: unknown }> = [];
    this.relaxed(() => {
      try {
        const results = this.db.transaction(() => batch.map((w) => w.apply())).immediate();
        this.commits++;
        batch.forEach((w, i) => done.push({ w, result: results[i] }));
      } catch {
        for (const w of batch) {
          try {
            done.push({ w, result: this.db.transaction(w.apply).immediate() });
            this.commits++;
          } catch (err) {
            w.reject(err);
          }
        }
      }
    });
    if (done.length === 0) return;
    if (!this.wal) {
      for (const d of done) d.w.resolve(d.result);
      return;
    }
    this.wal.sync().then(
      () => {
        for (const d of done) d.w.resolve(d.result);
      },
      (err: unknown) => {
        for (const d of done) {
          try {
            if (d.w.undo) this.db.transaction(d.w.undo).immediate();
          } catch {
            // the storage is failing: the caller hears of the sync's failure either way
          }
          d.w.reject(err);
        }
      },
    );
  }

  /** Runs `commit` with the WAL not synced by SQLite (we sync it ourselves before answering). */
  private relaxed(commit: () => void): void {
    if (!this.wal) return commit();
    statement(this.db, 'PRAGMA synchronous = NORMAL').run();
    try {
      commit();
    } finally {
      statement(this.db, 'PRAGMA synchronous = FULL').run();
    }
  }
}

/**
 * fdatasync of a WAL file, shared: callers that ask before a sync starts share it; a caller
 * arriving while one runs waits for the next (the running one may have started before its commit).
 */
class WalSync {
  private next: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | null = null;
  private running = false;

  constructor(
    private readonly path: string,
    private readonly syncFile: (path: string) => Promise<void>,
  ) {}

  sync(): Promise<void> {
    if (this.next) return this.next.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.next = { promise, resolve, reject };
    if (!this.running) this.start();
    return promise;
  }

  private start(): void {
    const waiting = this.next;
    if (!waiting) return;
    this.next = null;
    this.running = true;
    this.syncFile(this.path).then(waiting.resolve, waiting.reject).finally(() => {
      this.running = false;
      if (this.next) this.start();
    });
  }

}

async function datasyncFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    // No WAL file: the last connection checkpointed it into the database (synced) and removed it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export interface TickBatcherOptions {
  /** How the WAL file is made durable (tests observe or fail it); fdatasync by default. */
  syncWal?: (path: string) => Promise<void>;
}

const batchers = new WeakMap<SqliteDatabase, TickBatcher>();

/** The one batcher of a database connection: writes through it share commits. Options apply to the first call. */
export function tickBatcher(db: SqliteDatabase, options?: TickBatcherOptions): TickBatcher {
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new TickBatcher(db, options)));
  return b;
}
