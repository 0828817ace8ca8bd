import type { SqliteDatabase } from './database.js';

interface Waiting {
  apply: () => unknown;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of the writes that arrive in the same turn of the event loop, whatever port they
 * come from (acceptance's rounds, delivery's outcomes): each caller gets its own result once ONE
 * immediate transaction holding all of them has committed (with `synchronous = FULL`, durably).
 * A commit blocks the event loop for its fsync; while it does, the next callers gather, so under
 * load one fsync serves many. When the shared transaction fails, each write is tried in a
 * transaction of its own, so one bad write fails only its caller.
 */
export class TickBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  /** Transactions committed so far (tests and benchmarks read it). */
  commits = 0;

  constructor(private readonly db: SqliteDatabase) {}

  /** `apply` runs inside the shared transaction; it must not start one of its own. */
  run<R>(apply: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ apply, resolve: resolve as (r: unknown) => void, reject });
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
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((w) => w.apply())).immediate();
      this.commits++;
    } catch {
      if (batch.length === 1) return this.alone(batch[0]!);
      for (const w of batch) this.alone(w);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  }

  private alone(w: Waiting): void {
    try {
      const result = this.db.transaction(w.apply).immediate();
      this.commits++;
      w.resolve(result);
    } catch (err) {
      w.reject(err);
    }
  }
}

const batchers = new WeakMap<SqliteDatabase, TickBatcher>();

/** The one batcher of a database connection: writes through it share commits. */
export function tickBatcher(db: SqliteDatabase): TickBatcher {
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new TickBatcher(db)));
  return b;
}
