/**
 * Runs `relaygate` for the integration tests: one-shot commands in-process, and the built binary
 * (dist/src/cli/main.js) as a child process for `serve`, whose listener ports are read from its output.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runCliCaptured } from '../../src/cli/testing.js';

/** dist/src/cli/main.js, found from this compiled file (dist/test/support/). */
export const relaygateBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A one-shot command, run in-process through runCli (as the CLI tests do) in the folder CWD. */
export function runRelaygate(args: string[], cwd: string): Promise<CommandResult> {
  return runCliCaptured(args, { env: process.env, cwd });
}

/** A one-shot command run as the built binary, for what only the real process shows (serve failing at start). */
export function spawnRelaygate(args: string[], cwd: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [relaygateBin, ...args], { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  child: ChildProcess;
  /** Listener name → port, from the "listening on" lines. */
  ports: Map<string, number>;
  stdout(): string;
  stderr(): string;
  /** Waits (bounded) until stderr contains the text. */
  waitForStderr(text: string | RegExp): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `relaygate serve` and resolves once every expected listener reported its port. */
export function startServe(args: string[], cwd: string, listeners: string[], waitMs = 20_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [relaygateBin, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const ports = new Map<string, number>();
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const m of out.matchAll(/listening on \[?([^\]\s]+?)\]?:(\d+) \(([^,]+),/g)) ports.set(m[3]!, Number(m[2]));
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (wake(), resolve(code))));
  let done = false;
  void exited.then(() => (done = true));
  const waitUntil = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + waitMs;
    while (!cond()) {
      if (done) throw new Error(`relaygate serve exited while waiting for ${what}\nstdout: ${out}\nstderr: ${err}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}\nstdout: ${out}\nstderr: ${err}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        waiters.push(() => (clearTimeout(t), r()));
      });
    }
  };
  const proc: ServeProcess = {
    child,
    ports,
    stdout: () => out,
    stderr: () => err,
    waitForStderr: (text) => waitUntil(() => (typeof text === 'string' ? err.includes(text) : text.test(err)), String(text)),
    async stop(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
      return exited;
    },
  };
  return waitUntil(() => listeners.every((l) => ports.has(l)), `listeners ${listeners.join(', ')}`).then(
    () => proc,
    async (e: unknown) => {
      await proc.stop('SIGKILL');
      throw e;
    },
  );
}

export interface RecordingRouteConfig {
  /** Domains routed to the recording server. */
  domains: readonly string[];
  /** Port of the recording server on 127.0.0.1. */
  sinkPort: number;
  /** More lines under `delivery:` (without indentation), e.g. `retry: [300ms]`. */
  delivery?: readonly string[];
  /** More top-level YAML after the delivery section, e.g. a `metrics:` section. */
  more?: string;
}

/**
 * Writes DIR/relaygate.yaml for a serve with one plain listener on 127.0.0.1, DNS pointed at a
 * closed port and the given domains routed to a recording server; returns the file's path.
 */
export function writeRecordingRouteConfig(dir: string, route: RecordingRouteConfig): string {
  const path = join(dir, 'relaygate.yaml');
  writeFileSync(
    path,
    `hostname: relay.test
dataDir: ./data
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery:
  dns: { servers: ["127.0.0.1:9"], timeout: 1s }
  routes:
    - { domains: [${route.domains.join(', ')}], host: "127.0.0.1:${route.sinkPort}", tls: none }
${(route.delivery ?? []).map((line) => `  ${line}\n`).join('')}${route.more ?? ''}`,
  );
  return path;
}
