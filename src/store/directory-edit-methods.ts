/**
 * The DirectoryStore's edit methods, each one DirectoryEdit: an adapter extends this and implements
 * `load`, `revision`, `replace` and `applyDirectoryEdit` (apply the edit to the stored directory and
 * write the result in one transaction), so the mapping from method to edit is written once.
 */
import type { AcceptedDomainInput, ConnectorInput, Directory, DirectoryChange, DirectoryEdit, TenantInput } from '../directory/index.js';
import { RelaygateError } from '../core/errors.js';
import type { ConnectorPatch, DirectoryStore, EditOptions, ReplaceOptions, TenantPatch } from './ports.js';

export abstract class DirectoryEditMethods implements DirectoryStore {
  abstract load(): ReturnType<DirectoryStore['load']>;
  abstract revision(): Promise<number>;
  abstract replace(dir: Directory, options?: ReplaceOptions): Promise<DirectoryChange[]>;
  abstract loadWithRevision(): ReturnType<DirectoryStore['loadWithRevision']>;
  /** Inside the write's transaction: apply the edit to the stored directory and write the result. */
  protected abstract applyDirectoryEdit(edit: DirectoryEdit, options: EditOptions): Promise<DirectoryChange[]>;

  addTenant(tenant: TenantInput, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'addTenant', tenant }, options);
  }
  updateTenant(name: string, patch: TenantPatch, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'updateTenant', tenant: name, patch }, options);
  }
  removeTenant(name: string, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'removeTenant', tenant: name }, options);
  }
  addDomain(tenant: string, domain: AcceptedDomainInput, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'addDomain', tenant, domain }, options);
  }
  removeDomain(domain: string, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'removeDomain', domain }, options);
  }
  addConnector(tenant: string, connector: ConnectorInput, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'addConnector', tenant, connector }, options);
  }
  updateConnector(tenant: string, name: string, patch: ConnectorPatch, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'updateConnector', tenant, connector: name, patch }, options);
  }
  removeConnector(tenant: string, name: string, options: EditOptions = {}): Promise<DirectoryChange[]> {
    return this.applyDirectoryEdit({ op: 'removeConnector', tenant, connector: name }, options);
  }
}

/** Inside a write transaction: refuses the write when `options.ifRevision` is not the revision it sees. */
export function checkRevision(options: EditOptions, current: number): void {
  if (options.ifRevision === undefined || options.ifRevision === current) return;
  throw new RelaygateError('stale-revision', `the directory is at revision ${current}, not ${options.ifRevision}: read it again and retry`, {
    details: { expected: options.ifRevision, current },
  });
}

