/**
 * The rows of the peer comparison: how each relay is started fresh and stopped (the same recipes
 * as ../shared/bench/run-peers.sh), which processes make up its memory, and which scenarios it can
 * run at all (DKIM and PostgreSQL are relaygate's own).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunOptions {
  sinkPort: number;
  pb: string;
  dkim: boolean;
  /** Messages put in relaygate's queue before it starts (deferred, so they stay). */
  prefill: number;
  pgUrl?: string;
}

export interface Running {
  /** Processes whose tree is the relay's memory. */
  roots(): number[];
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  port: number;
  /** Why it cannot run these options, or null. */
  unsupported(o: RunOptions): string | null;
  start(o: RunOptions): Promise<Running>;
}

export function listening(port: number): boolean {
  try {
    return execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

export async function waitListening(port: number, want: boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (listening(port) === want) return true;
    await sleep(100);
  }
  return listening(port) === want;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** A foreground relay in its own process group; stopped with TERM to the group, KILL after 10 s. */
function spawnGroup(command: string, args: string[], opts: { cwd: string; log: string; env: NodeJS.ProcessEnv }): Running {
  const out = openSync(opts.log, 'a');
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', out, out] });
  const pid = child.pid!;
  return {
    roots: () => [pid],
    stop: async () => {
      const gone = exited(child);
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

const noDkim = (what: string) => (o: RunOptions) => (o.dkim ? `${what} has no DKIM signer set up in the shared harness` : o.prefill ? 'prefill is relaygate\'s own' : null);

const postfix: Target = {
  name: 'postfix',
  port: 25252,
  unsupported: noDkim('postfix'),
  async start(o) {
    const etc = join(o.pb, 'postfix/etc');
    try {
      execFileSync('postsuper', ['-c', etc, '-d', 'ALL'], { stdio: 'ignore' });
    } catch {
      // an empty queue
    }
    execFileSync('postfix', ['-c', etc, 'start'], { stdio: 'ignore' });
    const pidFile = join(o.pb, 'postfix/queue/pid/master.pid');
    return {
      roots: () => {
        try {
          return [Number(readFileSync(pidFile, 'utf8').trim())];
        } catch {
          return [];
        }
      },
      stop: async () => {
        execFileSync('postfix', ['-c', etc, 'stop'], { stdio: 'ignore' });
        await sleep(1000);
      },
    };
  },
};

const harakaOutq: Target = {
  name: 'haraka-outq',
  port: 25254,
  unsupported: noDkim('haraka-outq'),
  async start(o) {
    const hk = join(o.pb, 'haraka');
    rmSync(join(hk, 'outq/queue'), { recursive: true, force: true });
    mkdirSync(join(hk, 'outq/queue'), { recursive: true });
    return spawnGroup('node', ['node_modules/.bin/haraka', '-c', join(hk, 'outq')], { cwd: hk, log: join(o.pb, 'haraka-outq.log'), env: process.env });
  },
};

const repo = resolve(import.meta.dirname, '../../..');

function relaygateEnv(o: RunOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PB: o.pb,
    SINK_PORT: String(o.sinkPort),
    RELAYGATE_BENCH_DKIM: o.dkim ? '1' : '',
    RELAYGATE_BENCH_PREFILL: String(o.prefill),
    ...(o.pgUrl && { RELAYGATE_BENCH_PG_URL: o.pgUrl }),
  };
}

const relaygate: Target = {
  name: 'relaygate',
  port: 25260,
  unsupported: () => null,
  async start(o) {
    return spawnGroup('bash', [join(repo, 'bench/peers/start-relaygate.sh')], { cwd: repo, log: join(o.pb, 'relaygate-start.log'), env: relaygateEnv(o) });
  },
};

const relaygatePg: Target = {
  name: 'relaygate-pg',
  port: 25270,
  unsupported: (o) => (o.prefill ? 'prefill is measured on SQLite' : o.pgUrl ? null : 'no PostgreSQL server (RELAYGATE_BENCH_PG_URL, or binaries for a throwaway cluster)'),
  async start(o) {
    return spawnGroup('bash', [join(repo, 'bench/peers/start-relaygate-postgres.sh'), '25270', '1'], {
      cwd: repo,
      log: join(o.pb, 'relaygate-pg-start.log'),
      env: relaygateEnv(o),
    });
  },
};

export const TARGETS: readonly Target[] = [postfix, harakaOutq, relaygate, relaygatePg];

/** Whether the peers of ../shared/bench/setup-peers.sh are installed. */
export function peerInstalled(t: Target, pb: string): boolean {
  if (t.name === 'postfix') return existsSync(join(pb, 'postfix/etc/main.cf'));
  if (t.name === 'haraka-outq') return existsSync(join(pb, 'haraka/node_modules/.bin/haraka'));
  return true;
}
