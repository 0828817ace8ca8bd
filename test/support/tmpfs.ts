/**
 * A small real file system for storage-fault tests: a tmpfs of a given size mounted at a directory
 * (needs root, as the tests run here and in CI), filled up on purpose, remounted read-only. When
 * mounting is not permitted, `mountTmpfs` says why and the test skips with that reason: a full
 * disk is never imitated.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Tmpfs {
  readonly path: string;
  /** Writes a filler file until the file system reports ENOSPC; returns its size in bytes. */
  fill(): number;
  /** Removes the filler: the space is back. */
  unfill(): void;
  remount(mode: 'ro' | 'rw'): void;
  unmount(): void;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Mounts a tmpfs of `sizeKb` at `path` (created if missing), or returns the reason it cannot. */
export function mountTmpfs(path: string, sizeKb: number): Tmpfs | { skip: string } {
  if (process.platform !== 'linux') return { skip: `tmpfs mounts need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { skip: 'mounting a small tmpfs needs root (the suite runs as root here and in CI)' };
  mkdirSync(path, { recursive: true });
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', path]);
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { skip: `cannot mount a tmpfs at ${path}: ${stderr || (err as Error).message}` };
  }
  const filler = join(path, 'filler');
  let mounted = true;
  return {
    path,
    fill() {
      const fd = openSync(filler, 'a');
      let total = 0;
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x78);
          for (;;) {
            try {
              total += writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return total;
    },
    unfill() {
      unlinkSync(filler);
    },
    remount(mode) {
      run('mount', ['-o', `remount,${mode}`, path]);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      run('umount', ['-l', path]);
    },
  };
}
