/**
 * The DirectoryStore port on SQLite. better-sqlite3 is synchronous: each method runs one IMMEDIATE
 * transaction (read, compute with the pure directory functions, write) and resolves with its result.
 */
import type { IdGenerator } from '../../core/ulid.js';
import { systemTenantIds } from './tenant-ids.js';
import {
  applyEdit,
  assignTenantIds,
  diffDirectories,
  validateDirectory,
  type AcceptedDomainInput,
  type ConnectorInput,
  type Directory,
  type DirectoryChange,
  type DirectoryEdit,
  type StoredDirectory,
  type TenantInput,
} from '../../directory/index.js';
import type { ConnectorPatch, DirectoryStore, ReplaceOptions, TenantPatch } from '../ports.js';
import type { SqliteDatabase } from './database.js';
import { DirectoryRows } from './directory-rows.js';

export class SqliteDirectoryStore implements DirectoryStore {
  private readonly rows: DirectoryRows;

  /** `newId` makes the ids of new tenants (tests pass a deterministic one). */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly newId: IdGenerator = systemTenantIds(),
  ) {
    this.rows = new DirectoryRows(db);
  }

  async load(): Promise<StoredDirectory> {
    return this.db.transaction(() => this.rows.read())();
  }

  async revision(): Promise<number> {
    return this.rows.revision();
  }

  async replace(dir: Directory, options: ReplaceOptions = {}): Promise<DirectoryChange[]> {
    const next = validateDirectory(dir);
    return this.db.transaction(() => this.commit(this.rows.read(), next, options.dryRun === true)).immediate();
  }

  addTenant(tenant: TenantInput): Promise<DirectoryChange[]> {
    return this.edit({ op: 'addTenant', tenant });
  }
  updateTenant(name: string, patch: TenantPatch): Promise<DirectoryChange[]> {
    return this.edit({ op: 'updateTenant', tenant: name, patch });
  }
  removeTenant(name: string): Promise<DirectoryChange[]> {
    return this.edit({ op: 'removeTenant', tenant: name });
  }
  addDomain(tenant: string, domain: AcceptedDomainInput): Promise<DirectoryChange[]> {
    return this.edit({ op: 'addDomain', tenant, domain });
  }
  removeDomain(domain: string): Promise<DirectoryChange[]> {
    return this.edit({ op: 'removeDomain', domain });
  }
  addConnector(tenant: string, connector: ConnectorInput): Promise<DirectoryChange[]> {
    return this.edit({ op: 'addConnector', tenant, connector });
  }
  updateConnector(tenant: string, name: string, patch: ConnectorPatch): Promise<DirectoryChange[]> {
    return this.edit({ op: 'updateConnector', tenant, connector: name, patch });
  }
  removeConnector(tenant: string, name: string): Promise<DirectoryChange[]> {
    return this.edit({ op: 'removeConnector', tenant, connector: name });
  }

  private async edit(edit: DirectoryEdit): Promise<DirectoryChange[]> {
    return this.db
      .transaction(() => {
        const current = this.rows.read();
        return this.commit(current, applyEdit(current, edit), false);
      })
      .immediate();
  }

  /** Inside a transaction: write when anything differs (order too), bump the revision on real changes. */
  private commit(current: StoredDirectory, proposed: Directory, dryRun: boolean): DirectoryChange[] {
    const next = assignTenantIds(current, proposed, this.newId);
    const changes = diffDirectories(current, next);
    if (dryRun) return changes;
    if (changes.length > 0 || JSON.stringify(current) !== JSON.stringify(next)) this.rows.write(current, next);
    if (changes.length > 0) this.rows.bump();
    return changes;
  }
}
