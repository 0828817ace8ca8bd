/**
 * Started detached by postgres-cluster.ts: argv is the owner's pid, the cluster folder, its data
 * directory, pg_ctl and the prefix that runs it as `postgres` (may be empty). When the owner is gone
 * (killed by a signal, SIGKILL included, before it could stop the cluster), stops the server and
 * removes the folder. Ends as soon as the folder is gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [ownerArg, dir, data, pgCtl, ...prefix] = process.argv.slice(2);
const owner = Number(ownerArg);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const timer = setInterval(() => {
  if (!dir || !existsSync(dir)) {
    clearInterval(timer);
    return;
  }
  if (alive(owner)) return;
  clearInterval(timer);
  if (data && pgCtl && existsSync(join(data, 'postmaster.pid'))) {
    const [file, ...args] = [...prefix, pgCtl, 'stop', '-D', data, '-m', 'immediate', '-w', '-s'];
    spawnSync(file!, args, { stdio: 'ignore', timeout: 30_000 });
  }
  rmSync(dir, { recursive: true, force: true });
}, 500);
