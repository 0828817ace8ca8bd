/**
 * Changes to the tenant directory with what they bring to light: each edit goes to the directory
 * store (which validates it and changes nothing on error) and comes back with the changes made and
 * the audit findings of what changed (change-findings.ts). Findings never stop a change; each
 * front end (the CLI, the admin API) words them its own way.
 */
import type { AcceptedDomainInput, ConnectorInput, Directory, DirectoryChange } from '../directory/index.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { ConnectorPatch, DirectoryStore, TenantPatch } from '../store/ports.js';
import type { TenantInput } from '../directory/index.js';
import { changeFindings, type TenantChangeFindings } from './change-findings.js';

export interface DirectoryEditResult {
  changes: DirectoryChange[];
  /** The audit findings of the tenants the changes touch, scoped to what changed. */
  findings: TenantChangeFindings[];
  /** The store's revision after the edit (unchanged by a dry run or an edit that changed nothing). */
  revision: number;
}

export class DirectoryEditService {
  private readonly clock: Clock;

  constructor(private readonly deps: { directory: DirectoryStore; clock?: Clock }) {
    this.clock = deps.clock ?? systemClock;
  }

  /**
   * Makes the store match `dir` (nothing written on a dry run). The findings are those of `dir`,
   * what the store holds (or would hold) afterwards.
   */
  async replace(dir: Directory, options: { dryRun?: boolean } = {}): Promise<DirectoryEditResult> {
    const before = await this.deps.directory.load();
    const changes = await this.deps.directory.replace(dir, { dryRun: options.dryRun === true });
    return { changes, findings: changeFindings(before, dir, changes, this.clock.now()), revision: await this.deps.directory.revision() };
  }

  addTenant(tenant: TenantInput): Promise<DirectoryEditResult> {
    return this.edited((d) => d.addTenant(tenant));
  }

  updateTenant(name: string, patch: TenantPatch): Promise<DirectoryEditResult> {
    return this.edited((d) => d.updateTenant(name, patch));
  }

  addDomain(tenant: string, domain: AcceptedDomainInput): Promise<DirectoryEditResult> {
    return this.edited((d) => d.addDomain(tenant, domain));
  }

  removeDomain(domain: string): Promise<DirectoryEditResult> {
    return this.edited((d) => d.removeDomain(domain));
  }

  addConnector(tenant: string, connector: ConnectorInput): Promise<DirectoryEditResult> {
    return this.edited((d) => d.addConnector(tenant, connector));
  }

  updateConnector(tenant: string, name: string, patch: ConnectorPatch): Promise<DirectoryEditResult> {
    return this.edited((d) => d.updateConnector(tenant, name, patch));
  }

  removeConnector(tenant: string, name: string): Promise<DirectoryEditResult> {
    return this.edited((d) => d.removeConnector(tenant, name));
  }

  /**
   * An edit of the store with its findings: the audit of the directory it holds afterwards against
   * the one before. (Another writer between the two reads only makes the comparison wider.)
   */
  private async edited(edit: (d: DirectoryStore) => Promise<DirectoryChange[]>): Promise<DirectoryEditResult> {
    const before = await this.deps.directory.load();
    const changes = await edit(this.deps.directory);
    const findings = changes.length === 0 ? [] : changeFindings(before, await this.deps.directory.load(), changes, this.clock.now());
    return { changes, findings, revision: await this.deps.directory.revision() };
  }
}
