import type { AcceptedDomainInput, ConnectorInput, Directory, DirectoryChange, StoredDirectory, TenantInput } from '../../directory/index.js';


export type TenantPatch = Partial<Omit<TenantInput, 'name' | 'id' | 'acceptedDomains' | 'inboundConnectors'>>;
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
 *
 * Every stored tenant has an id (a ULID) that no edit changes: a tenant written without one keeps
 * the id of the stored tenant of the same name (in any case), or gets a new one. Per-tenant settings
 * elsewhere in the store refer to the id and go when the tenant goes; its queued messages stay, with
 * a null tenant id from then on (accepted mail is still delivered, without the tenant's settings).
 */
export interface DirectoryStore {
  load(): Promise<StoredDirectory>;
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
