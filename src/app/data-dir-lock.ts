import { openSync, closeSync, writeSync, readFileSync, readdirSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf, RelaygateError } from '../core/errors.js';

/**
 * One `relaygate serve` per node id. At start, serve makes due again what its node's previous run
 * left in flight (the leases carrying its node id); a second serve with the same node id would
 * release the first one's live leases and deliver the same recipients twice. Serves with different
 * node ids may share a data directory: SQLite in WAL mode takes several processes, and none touches
 * another's leases. The lock is a file `serve-<node id>.lock` holding the owner's pid, created
 * exclusively; a lock whose process no longer exists is taken over.
 */
export class DataDirLockedError extends RelaygateError {
  constructor(message: string, details: { dataDir: string; nodeId: string; pid?: number }) {
    super('conflict', message, { details });
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

export function lockFileName(nodeId: string): string {
  return `serve-${nodeId}.lock`;
}

/** `nodeId` follows config/node-id.ts's NODE_ID (safe in a file name); the config loader checked it. */
export function lockDataDir(dataDir: string, nodeId: string, pid = process.pid): DataDirLock {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw unwritable(dataDir, err) ?? new RelaygateError('store-unavailable', `cannot create ${dataDir}: ${messageOf(err)}`, { details: { dataDir }, cause: err });
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(nodeId)) throw new RelaygateError('invalid', `not a node id: ${JSON.stringify(nodeId)}`, { details: { nodeId } });
  const path = join(dataDir, lockFileName(nodeId));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return {
        release: () => {
          if (ownerOf(path) === pid) unlinkSync(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotLock(dataDir, err);
      const owner = ownerOf(path);
      if (owner !== null && owner !== pid && isAlive(owner)) {
        throw new DataDirLockedError(
          `another relaygate serve (pid ${owner}) runs as node ${nodeId} on ${dataDir}; give each serve on a data directory its own nodeId`,
          { dataDir, nodeId, pid: owner },
        );
      }
      // Stale: its process is gone.
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotLock(dataDir, err);
      }
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir} for node ${nodeId}`, { dataDir, nodeId });
}

/** The serves running on `dataDir` now: each live lock file's node id and pid. */
export function liveServes(dataDir: string): Array<{ nodeId: string; pid: number }> {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const m = /^serve-(.+)\.lock$/.exec(name);
    const pid = m ? ownerOf(join(dataDir, name)) : null;
    return m && pid !== null && isAlive(pid) ? [{ nodeId: m[1]!, pid }] : [];
  });
}

/** A data directory on a read-only file system: said in so many words, it is what the operator must fix. */
function unwritable(dataDir: string, err: unknown): RelaygateError | null {
  if ((err as NodeJS.ErrnoException).code !== 'EROFS') return null;
  return new RelaygateError('store-unavailable', `the data directory ${dataDir} is not writable (read-only file system); serve keeps its queue there`, {
    details: { dataDir, errno: 'EROFS' },
    cause: err,
  });
}

function cannotLock(dataDir: string, err: unknown): RelaygateError {
  return unwritable(dataDir, err) ?? new RelaygateError('store-unavailable', `cannot lock ${dataDir}: ${messageOf(err)}`, { details: { dataDir }, cause: err });
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
