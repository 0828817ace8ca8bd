/**
 * For CLI tests: `relaygate` run in-process through runCli with captured output, against a
 * temporary relaygate.yaml whose data directory is temporary too. `spawnCli` runs the BUILT binary
 * (dist/src/cli/main.js) instead, for the few tests of the real process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliEnv, CliWriter } from './io.js';
import { runCli } from './run.js';

export const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  dir: string;
  config: string;
  /** The environment runs get: the test process's without the store overrides. */
  env: CliEnv;
  /** Runs `relaygate ARGS --config <the sandbox's file>`. */
  run(...args: string[]): Promise<CliResult>;
  /** Runs `relaygate ARGS` exactly as given, in CWD (default: the sandbox's folder). */
  runRaw(args: string[], cwd?: string): Promise<CliResult>;
  cleanup(): void;
}

/** Runs `relaygate ARGS` in this process and collects what it writes. */
export async function runCliCaptured(args: readonly string[], options: { env: CliEnv; cwd: string }): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, { stdout, stderr, env: options.env, cwd: options.cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Runs the built binary in a child process. */
export function spawnCli(args: readonly string[], options: { env: CliEnv; cwd: string }): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: options.cwd, encoding: 'utf8', env: options.env, timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliSandbox(): CliSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-cli-'));
  const config = join(dir, 'relaygate.yaml');
  writeFileSync(config, 'hostname: test.example\ndataDir: ./data\nstore: sqlite\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\n');
  const env = { ...process.env };
  delete env.RELAYGATE_STORE;
  delete env.RELAYGATE_STORE_URL;
  delete env.RELAYGATE_DATA_DIR;
  const runRaw = (args: string[], cwd = dir): Promise<CliResult> => runCliCaptured(args, { env, cwd });
  return {
    dir,
    config,
    env,
    run: (...args) => runRaw([...args, '--config', config]),
    runRaw,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

class Capture implements CliWriter {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
