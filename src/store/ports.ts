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
