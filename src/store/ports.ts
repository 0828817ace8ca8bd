/**
 * Store ports: what the rest of relaygate needs from storage, free of any engine's details. The
 * SQLite adapter (sqlite/) implements them now; a PostgreSQL adapter implements the same ports and
 * runs the same contract tests.
 */
import type { Readable, Writable } from 'node:stream';
import type {
  AcceptedDomainInput,
  ConnectorInput,
  Directory,
  DirectoryChange,
  TenantInput,
} from '../directory/index.js';

// ---- Directory -------------------------------------------------------------------------------

export type TenantPatch = Partial<Omit<TenantInput, 'name' | 'acceptedDomains' | 'inboundConnectors'>>;
export type ConnectorPatch = Partial<Omit<ConnectorInput, 'name'>>;

export interface ReplaceOptions {
  /** Compute and return the changes without writing anything. */
  dryRun?: boolean;
}

/**
 * The tenant directory. Every write validates the whole resulting directory (the rules of
 * directory/validate.ts) and, on any error, throws (DirectoryValidationError, DirectoryEditError)
 * and changes nothing. Every write that changes something bumps the revision in the same
 * transaction, so readers can rebuild their policy snapshot only when it moved.
 */
export interface DirectoryStore {
  load(): Promise<Directory>;
  /** A number that grows with every change; 0 for a directory never written. */
  revision(): Promise<number>;
  /** Makes the store match `dir` in one transaction; returns what changed (empty: nothing). */
  replace(dir: Directory, options?: ReplaceOptions): Promise<DirectoryChange[]>;
  addTenant(tenant: TenantInput): Promise<DirectoryChange[]>;
  updateTenant(name: string, patch: TenantPatch): Promise<DirectoryChange[]>;
  removeTenant(name: string): Promise<DirectoryChange[]>;
  addDomain(tenant: string, domain: AcceptedDomainInput): Promise<DirectoryChange[]>;
  /** Removes the domain from whichever tenant has it. */
  removeDomain(domain: string): Promise<DirectoryChange[]>;
  addConnector(tenant: string, connector: ConnectorInput): Promise<DirectoryChange[]>;
  updateConnector(tenant: string, name: string, patch: ConnectorPatch): Promise<DirectoryChange[]>;
  removeConnector(tenant: string, name: string): Promise<DirectoryChange[]>;
}

// ---- Message bodies --------------------------------------------------------------------------

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

// ---- SRS addresses this relay minted ---------------------------------------------------------

/** A rewritten envelope sender delivery used for a message relayed to outside recipients. */
export interface MintedSrsAddress {
  /** The SRS address as sent; the store compares it without regard to case. */
  address: string;
  messageId: string;
  /** How many outside (relayed) recipients the message has: its returns are bounded by it. */
  outsideRecipients: number;
  /** Epoch milliseconds. */
  at: number;
}

/** What the store knew of an SRS address when a bounce to it asked for one return. */
export interface SrsReturnReservation {
  /** A message was relayed with exactly this sender, minted at or after `since`. */
  recorded: boolean;
  /** Returns that were still allowed before this call (0: the allowance is used up). */
  returnsLeft: number;
  /** The message this return was counted against; null when none was counted. */
  messageId: string | null;
}

/**
 * The SRS addresses delivery minted, each with its message: a bounce to an SRS address is honoured
 * only if it is recorded here, and a bounded number of times. Rows older than the SRS age are pruned.
 */
export interface SrsMintedStore {
  /** Records (or refreshes) that `address` was the envelope sender of the message. Idempotent. */
  record(minted: MintedSrsAddress): Promise<void>;
  /**
   * Counts one return to `address` against a message minted with it at or after `since` that has
   * fewer than `returnsPerRecipient` × its outside recipients returns: atomic, so two callers never
   * both take the last one. Nothing is counted when none is left.
   */
  reserveReturn(address: string, since: number, returnsPerRecipient: number): Promise<SrsReturnReservation>;
  /** Gives back a return counted by `reserveReturn` whose bounce was not accepted after all. */
  releaseReturn(messageId: string): Promise<void>;
  /** Forgets addresses minted before `before` (and messages with none left); returns how many addresses. */
  prune(before: number): Promise<number>;
}
