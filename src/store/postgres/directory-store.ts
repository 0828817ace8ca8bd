/**
 * The DirectoryStore port on PostgreSQL. Each write is one transaction that first locks the
 * directory's state row (so writers on any node queue up, as SQLite's IMMEDIATE transactions do),
 * reads, computes with the pure directory functions, writes and bumps the revision. Reads see one
 * snapshot (REPEATABLE READ, read only) and take no lock.
 */
import type { IdGenerator } from '../../core/ulid.js';
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
import type { PgDatabase, PgQueryable } from './database.js';
import { bumpRevision, lockDirectory, readDirectory, readRevision, writeDirectory } from './directory-rows.js';

export class PgDirectoryStore extends DirectoryEditMethods {
  /** `newId` makes the ids of new tenants. */
  constructor(
    private readonly db: PgDatabase,
    private readonly newId: IdGenerator,
  ) {
    super();
  }

  load(): Promise<StoredDirectory> {
    return this.db.transaction(readDirectory, { readOnly: true });
  }

  loadWithRevision(): Promise<{ directory: StoredDirectory; revision: number }> {
    return this.db.transaction(async (tx) => ({ directory: await readDirectory(tx), revision: await readRevision(tx) }), { readOnly: true });
  }

  revision(): Promise<number> {
    return readRevision(this.db);
  }

  async replace(dir: Directory, options: ReplaceOptions = {}): Promise<DirectoryChange[]> {
    const next = validateDirectory(dir);
    return this.write(options, async (tx, current) => this.commit(tx, current, next, options.dryRun === true));
  }


  protected applyDirectoryEdit(edit: DirectoryEdit, options: EditOptions): Promise<DirectoryChange[]> {
    return this.write(options, (tx, current) => this.commit(tx, current, applyEdit(current, edit), false));
  }

  /** Runs `fn` in a transaction holding the directory's lock, with the directory as it is then. */
  private write<T>(options: EditOptions, fn: (tx: PgQueryable, current: StoredDirectory) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await lockDirectory(tx);
      checkRevision(options, await readRevision(tx));
      return fn(tx, await readDirectory(tx));
    });
  }

  /** Inside the write transaction: write when anything differs (order too), bump the revision on real changes. */
  private async commit(tx: PgQueryable, current: StoredDirectory, proposed: Directory, dryRun: boolean): Promise<DirectoryChange[]> {
    const next = assignTenantIds(current, proposed, this.newId);
    const changes = diffDirectories(current, next);
    if (dryRun) return changes;
    if (changes.length > 0 || JSON.stringify(current) !== JSON.stringify(next)) await writeDirectory(tx, current, next);
    if (changes.length > 0) await bumpRevision(tx);
    return changes;
  }
}
