/**
 * For CLI tests: runs the BUILT `relaygate` binary (dist/src/cli/main.js) in a child process with a
 * temporary relaygate.yaml whose data directory is temporary too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  dir: string;
  config: string;
  /** Runs `relaygate ARGS --config <the sandbox's file>`. */
  run(...args: string[]): CliResult;
  /** Runs `relaygate ARGS` exactly as given. */
  runRaw(args: string[], cwd?: string): CliResult;
  cleanup(): void;
}

export function cliSandbox(): CliSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-cli-'));
  const config = join(dir, 'relaygate.yaml');
  writeFileSync(config, 'hostname: test.example\ndataDir: ./data\nstore: sqlite\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\n');
  const env = { ...process.env };
  delete env.RELAYGATE_STORE;
  delete env.RELAYGATE_DATA_DIR;
  const runRaw = (args: string[], cwd = dir): CliResult => {
    const r = spawnSync(process.execPath, [MAIN, ...args], {
      cwd,
      encoding: 'utf8',
      env,
      timeout: 30_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    dir,
    config,
    run: (...args) => runRaw([...args, '--config', config]),
    runRaw,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
