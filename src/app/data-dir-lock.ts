import { openSync, closeSync, writeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf, RelaygateError } from '../core/errors.js';

/**
 * One `relaygate serve` per data directory. At start, serve makes every in-flight recipient of the
 * SQLite queue due again (the process that leased them is gone); a second serve on the same files
 * would take over live leases and deliver the same recipients twice. The lock is a file holding the
 * owner's pid, created exclusively; a lock whose process no longer exists is taken over.
 */
export class DataDirLockedError extends RelaygateError {
  constructor(message: string, details: { dataDir: string; pid?: number }) {
    super('conflict', message, { details });
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw unwritable(dataDir, err) ?? new RelaygateError('store-unavailable', `cannot create ${dataDir}: ${messageOf(err)}`, { details: { dataDir }, cause: err });
  }
  const path = join(dataDir, 'serve.lock');
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
        throw new DataDirLockedError(`another relaygate serve (pid ${owner}) is using ${dataDir}; one serve per data directory`, { dataDir, pid: owner });
      }
      // Stale: its process is gone.
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotLock(dataDir, err);
      }
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir}`, { dataDir });
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
