/**
 * The DirectoryStore's edit methods, each one DirectoryEdit: an adapter extends this and implements
 * `load`, `revision`, `replace` and `applyDirectoryEdit` (apply the edit to the stored directory and
 * write the result in one transaction), so the mapping from method to edit is written once.
 */
import type { AcceptedDomainInput, ConnectorInput, Directory, DirectoryChange, DirectoryEdit, TenantInput } from '../directory/index.js';
import type { ConnectorPatch, DirectoryStore, ReplaceOptions, TenantPatch } from './ports.js';

export abstract class DirectoryEditMethods implements DirectoryStore {
  abstract load(): ReturnType<DirectoryStore['load']>;
  abstract revision(): Promise<number>;
  abstract replace(dir: Directory, options?: ReplaceOptions): Promise<DirectoryChange[]>;
  protected abstract applyDirectoryEdit(edit: DirectoryEdit): Promise<DirectoryChange[]>;

  addTenant(tenant: TenantInput): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'addTenant', tenant });
  }
  updateTenant(name: string, patch: TenantPatch): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'updateTenant', tenant: name, patch });
  }
  removeTenant(name: string): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'removeTenant', tenant: name });
  }
  addDomain(tenant: string, domain: AcceptedDomainInput): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'addDomain', tenant, domain });
  }
  removeDomain(domain: string): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'removeDomain', domain });
  }
  addConnector(tenant: string, connector: ConnectorInput): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'addConnector', tenant, connector });
  }
  updateConnector(tenant: string, name: string, patch: ConnectorPatch): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'updateConnector', tenant, connector: name, patch });
  }
  removeConnector(tenant: string, name: string): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'removeConnector', tenant, connector: name });
  }
}
