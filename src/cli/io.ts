/**
 * What one run of the CLI talks to, injected by the caller: the real process streams in
 * main.ts, string buffers in tests. Commands write through it and never touch process.stdout,
 * process.env, process.cwd() or process.exitCode, so runs in one process do not leak into each other.
 */
import { isAbsolute, resolve } from 'node:path';

export interface CliWriter {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  hasColors?(): boolean;
}

export type CliEnv = Readonly<Record<string, string | undefined>>;

export interface CliIo {
  stdout: CliWriter;
  stderr: CliWriter;
  env: CliEnv;
  /** The folder relative paths and ./relaygate.yaml resolve against (default: the process's). */
  cwd?: string;
  stdin?: NodeJS.ReadableStream;
}

/** The io of one run as commands see it, and the exit code a command sets for a negative answer. */
export interface CliContext {
  readonly stdout: CliWriter;
  readonly stderr: CliWriter;
  readonly env: CliEnv;
  /** Undefined: the process's own working folder. */
  readonly cwd: string | undefined;
  readonly stdin: NodeJS.ReadableStream | undefined;
  exitCode: number;
}

export function cliContext(io: CliIo): CliContext {
  return { stdout: io.stdout, stderr: io.stderr, env: io.env, cwd: io.cwd, stdin: io.stdin, exitCode: 0 };
}

/**
 * A path given on the command line, resolved against the run's working folder. Left as given when
 * the run uses the process's folder, so messages show the path the way the person typed it.
 */
export function cliPath(cli: CliContext, path: string): string {
  return cli.cwd === undefined || isAbsolute(path) ? path : resolve(cli.cwd, path);
}
