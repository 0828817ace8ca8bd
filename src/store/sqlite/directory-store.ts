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
  type Directory,
  type DirectoryChange,
  type DirectoryEdit,
  type StoredDirectory,
} from '../../directory/index.js';
import { checkRevision, DirectoryEditMethods } from '../directory-edit-methods.js';
import type { EditOptions, ReplaceOptions } from '../ports.js';
import type { SqliteDatabase } from './database.js';
import { DirectoryRows } from './directory-rows.js';

export class SqliteDirectoryStore extends DirectoryEditMethods {
  private readonly rows: DirectoryRows;

  /** `newId` makes the ids of new tenants (tests pass a deterministic one). */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly newId: IdGenerator = systemTenantIds(),
  ) {
    super();
    this.rows = new DirectoryRows(db);
  }

  async load(): Promise<StoredDirectory> {
    return this.db.transaction(() => this.rows.read())();
  }

  async loadWithRevision(): Promise<{ directory: StoredDirectory; revision: number }> {
    return this.db.transaction(() => ({ directory: this.rows.read(), revision: this.rows.revision() }))();
  }

  async revision(): Promise<number> {
    return this.rows.revision();
  }

  async replace(dir: Directory, options: ReplaceOptions = {}): Promise<DirectoryChange[]> {
    const next = validateDirectory(dir);
    return this.db
      .transaction(() => {
        checkRevision(options, this.rows.revision());
        return this.commit(this.rows.read(), next, options.dryRun === true);
      })
      .immediate();
  }


  protected async applyDirectoryEdit(edit: DirectoryEdit, options: EditOptions): Promise<DirectoryChange[]> {
    return this.db
      .transaction(() => {
        checkRevision(options, this.rows.revision());
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
