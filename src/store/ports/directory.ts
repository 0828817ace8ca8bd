import type { AcceptedDomainInput, ConnectorInput, Directory, DirectoryChange, StoredDirectory, TenantInput } from '../../directory/index.js';


export type TenantPatch = Partial<Omit<TenantInput, 'name' | 'id' | 'acceptedDomains' | 'inboundConnectors'>>;
export type ConnectorPatch = Partial<Omit<ConnectorInput, 'name'>>;

export interface EditOptions {
  /**
   * Optimistic concurrency: write only if the directory is still at this revision, checked in the
   * write's own transaction; otherwise throw a `stale-revision` RelaygateError and change nothing.
   */
  ifRevision?: number;
}

export interface ReplaceOptions extends EditOptions {
  /** Compute and return the changes without writing anything. */
  dryRun?: boolean;
}

/**
 * The tenant directory. Every write validates the whole resulting directory (the rules of
 * directory/validate.ts) and, on any error, throws (DirectoryValidationError, DirectoryEditError)
 * and changes nothing. Every write that changes something bumps the revision in the same
 * transaction, so readers can rebuild their policy snapshot only when it moved.
 *
 * Every stored tenant has an id (a ULID) that no edit changes: a tenant written without one keeps
 * the id of the stored tenant of the same name (in any case), or gets a new one. Per-tenant settings
 * elsewhere in the store refer to the id and go when the tenant goes; its queued messages stay, with
 * a null tenant id from then on (accepted mail is still delivered, without the tenant's settings).
 */
export interface DirectoryStore {
  load(): Promise<StoredDirectory>;
  /** The directory and the revision it is at, read together (what an ETag names). */
  loadWithRevision(): Promise<{ directory: StoredDirectory; revision: number }>;
  /** A number that grows with every change; 0 for a directory never written. */
  revision(): Promise<number>;
  /** Makes the store match `dir` in one transaction; returns what changed (empty: nothing). */
  replace(dir: Directory, options?: ReplaceOptions): Promise<DirectoryChange[]>;
  addTenant(tenant: TenantInput, options?: EditOptions): Promise<DirectoryChange[]>;
  updateTenant(name: string, patch: TenantPatch, options?: EditOptions): Promise<DirectoryChange[]>;
  removeTenant(name: string, options?: EditOptions): Promise<DirectoryChange[]>;
  addDomain(tenant: string, domain: AcceptedDomainInput, options?: EditOptions): Promise<DirectoryChange[]>;
  /** Removes the domain from whichever tenant has it. */
  removeDomain(domain: string, options?: EditOptions): Promise<DirectoryChange[]>;
  addConnector(tenant: string, connector: ConnectorInput, options?: EditOptions): Promise<DirectoryChange[]>;
  updateConnector(tenant: string, name: string, patch: ConnectorPatch, options?: EditOptions): Promise<DirectoryChange[]>;
  removeConnector(tenant: string, name: string, options?: EditOptions): Promise<DirectoryChange[]>;
}
