/**
 * A throwaway PostgreSQL cluster from the machine's server binaries, for the tests: initdb into a
 * fresh temporary folder, started with pg_ctl on a free port of 127.0.0.1 (its unix socket in that
 * folder, never in /var/run), stopped and removed when the process that started it ends, by
 * whatever path: the exit handler on a normal end or an exception; a detached watchdog when a
 * signal (SIGKILL included) ends the owner without running exit handlers. As root the server runs
 * as the `postgres` user, since initdb and postgres refuse root.
 *
 * Made for tests only: fsync and synchronous_commit are off (a crash of the machine is no test
 * case; a crash of a relaygate process is, and committed data survives that without fsync).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ThrowawayCluster {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  /** The temporary folder: data directory, socket, log. */
  dir: string;
  /** Stops the server and removes the folder (synchronous, so it can run in an exit handler). */
  stop(): void;
}

export class NoPostgresError extends Error {
  constructor(reason: string) {
    super(
      `no PostgreSQL for the tests: ${reason}. Set RELAYGATE_TEST_PG_URL to a server the tests may create ` +
        'databases on, or install the server binaries (Debian: apt-get install postgresql)',
    );
    this.name = 'NoPostgresError';
  }
}

/** The folder with initdb and pg_ctl: RELAYGATE_TEST_PG_BINDIR, else the newest Debian version, else PATH. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.RELAYGATE_TEST_PG_BINDIR;
  if (chosen) {
    if (!existsSync(join(chosen, 'initdb')) || !existsSync(join(chosen, 'pg_ctl'))) {
      throw new NoPostgresError(`RELAYGATE_TEST_PG_BINDIR=${chosen} has no initdb and pg_ctl`);
    }
    return chosen;
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(debian, versions[0]!, 'bin');
  }
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  throw new NoPostgresError('initdb and pg_ctl were not found (looked in /usr/lib/postgresql/*/bin and PATH)');
}

/** How to run a server binary: as `postgres` through runuser when we are root, else as ourselves. */
interface RunAs {
  prefix: string[];
  uid?: number;
  gid?: number;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) throw new NoPostgresError('running as root, and there is no `postgres` user to run the server as');
    return Number(r.stdout.trim());
  };
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid: id('-u'), gid: id('-g') };
}

function run(as: RunAs, command: string, args: string[]): SpawnSyncReturns<string> {
  const [file, ...rest] = [...as.prefix, command, ...args];
  return spawnSync(file!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const COMMON_SETTINGS = ['max_connections=200', 'log_min_messages=warning'];
const SERVER_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'shared_buffers=32MB', ...COMMON_SETTINGS];
const DURABLE_SETTINGS = ['shared_buffers=128MB', ...COMMON_SETTINGS];

export interface ClusterOptions {
  /**
   * fsync, synchronous commit and full page writes on, as a production server has them (for
   * benchmarks); off by default, which tests do not need.
   */
  durable?: boolean;
}

/** Starts a new cluster owned by this process. Throws NoPostgresError when none can be had. */
export async function startThrowawayCluster(env: NodeJS.ProcessEnv = process.env, options: ClusterOptions = {}): Promise<ThrowawayCluster> {
  const bin = postgresBinDir(env);
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-pg-'));
  let stopped = false;
  const data = join(dir, 'data');
  const pgCtl = join(bin, 'pg_ctl');
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    if (existsSync(join(data, 'postmaster.pid'))) run(as, pgCtl, ['stop', '-D', data, '-m', 'immediate', '-w', '-s']);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  try {
    if (as.uid !== undefined) chownSync(dir, as.uid, as.gid!);
    startWatchdog(dir, data, pgCtl, as);
    const password = randomBytes(12).toString('hex');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    if (as.uid !== undefined) chownSync(pwfile, as.uid, as.gid!);
    const init = run(as, join(bin, 'initdb'), [
      '-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256',
      '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    if (init.status !== 0) throw new NoPostgresError(`initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim()}`);
    rmSync(pwfile);
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const serverOptions = ['-c', 'listen_addresses=127.0.0.1', '-p', String(port), '-c', `unix_socket_directories=${dir}`]
        .concat((options.durable ? DURABLE_SETTINGS : SERVER_SETTINGS).flatMap((s) => ['-c', s]))
        .join(' ');
      const started = run(as, pgCtl, ['start', '-D', data, '-w', '-s', '-t', '30', '-l', join(dir, 'server.log'), '-o', serverOptions]);
      if (started.status === 0) {
        return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, dir, stop };
      }
      // Another process may have taken the port between freePort() and the server's bind.
      lastError = `${started.stderr.trim()} ${tail(join(dir, 'server.log'))}`.trim();
    }
    throw new NoPostgresError(`pg_ctl start failed: ${lastError}`);
  } catch (err) {
    stop();
    throw err;
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-5).join('\n') : '';
}

/**
 * A detached process that outlives a SIGKILLed owner: it checks every half second that the owner
 * still runs, and when it does not, stops the server and removes the folder. It ends by itself once
 * the folder is gone (the owner's normal stop).
 */
function startWatchdog(dir: string, data: string, pgCtl: string, as: RunAs): void {
  const script = fileURLToPath(new URL('./postgres-watchdog.js', import.meta.url));
  const child = spawn(process.execPath, [script, String(process.pid), dir, data, pgCtl, ...as.prefix], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}
