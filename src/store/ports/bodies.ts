import type { Readable, Writable } from 'node:stream';


/**
 * A body being written. The acceptor streams the message into `writable()`, then `sync()` makes
 * the content durable and `commit()` makes the body findable after a crash; only then are the rows
 * that refer to it committed. Whatever fails on the way, `discard()` leaves nothing behind.
 */
export interface BodyWriter {
  /** Bytes written so far through `writable()`. */
  readonly bytes: number;
  /** The stream the body is written into; ending it makes nothing durable yet. */
  writable(): Writable;
  /** The content is on stable storage. Call once the writable has finished. */
  sync(): Promise<void>;
  /**
   * The body survives a crash and `open(id)` finds it. Call after `sync()`, before committing the
   * rows that refer to it. Concurrent commits may share one flush (group commit).
   */
  commit(): Promise<void>;
  /** Removes what was written. Never throws: it runs on error paths. */
  discard(): Promise<void>;
}

/**
 * Message bodies keyed by queue id, written once and read many times (delivery, DSNs, `queue show`).
 * The SQLite deployment keeps them as files under `<dataDir>/spool` (store/filesystem/).
 */
export interface BodyStore {
  /** A new body under `id`; refuses an id that already has one (never overwrites). */
  create(id: string): Promise<BodyWriter>;
  /** The body as a stream, or null when there is none. */
  open(id: string): Promise<Readable | null>;
  /** Removes these bodies; ids without one are ignored. */
  delete(ids: readonly string[]): Promise<void>;
  /** Every id that has a body, committed or still being written (for the orphan sweep). */
  list(): AsyncIterable<string>;
}
