/**
 * The CLI's boundary: an error code becomes an exit code, and the person at the terminal gets one
 * line. The table is the one of docs/errors.md; README.md states the exit codes.
 */
import { errorCodeOf, messageOf, RelaygateError, type ErrorCode, type RelaygateErrorOptions } from '../core/errors.js';
import type { CliEnv, CliWriter } from './io.js';

export const ExitCode = Object.freeze({
  ok: 0,
  /** A negative answer: refusals, findings, not found. */
  negative: 1,
  /** The command cannot be carried out as given: invalid input or usage, or a store, file or port it cannot use. */
  invalid: 2,
  /** A bug in relaygate (sysexits' EX_SOFTWARE). */
  internal: 70,
});

export const exitCodes: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid: ExitCode.invalid,
  'not-found': ExitCode.negative,
  conflict: ExitCode.invalid,
  'stale-revision': ExitCode.invalid,
  unsupported: ExitCode.invalid,
  'too-large': ExitCode.invalid,
  unauthorized: ExitCode.invalid,
  forbidden: ExitCode.invalid,
  'rate-limited': ExitCode.invalid,
  'store-unavailable': ExitCode.invalid,
  'store-full': ExitCode.invalid,
  unavailable: ExitCode.invalid,
  'delivery-failed': ExitCode.negative,
  internal: ExitCode.internal,
});

/** A problem with the command line itself (options that do not go together, a value out of range). */
export class CliError extends RelaygateError {
  constructor(message: string, code: ErrorCode = 'invalid', options: RelaygateErrorOptions = {}) {
    super(code, message, options);
    this.name = 'CliError';
  }
}

/** `err` with what the command was doing in front of its message; its code (and so the exit code) is kept. */
export function failedTo(doing: string, err: unknown): CliError {
  return new CliError(`${doing}: ${messageOf(err)}`, errorCodeOf(err), {
    cause: err,
    ...(err instanceof RelaygateError ? { details: err.details } : {}),
  });
}

export function exitCodeFor(err: unknown): number {
  return exitCodes[errorCodeOf(err)];
}

/**
 * Prints what went wrong and returns the exit code. A RelaygateError's message is for people as it
 * is; anything else is a bug: a short line says so, and RELAYGATE_DEBUG=1 adds the stack.
 */
export function reportCliError(err: unknown, stderr: CliWriter, env: CliEnv): number {
  if (errorCodeOf(err) !== 'internal') {
    stderr.write(`relaygate: ${(err as RelaygateError).message}\n`);
    return exitCodeFor(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`relaygate: internal error: ${message}\nThis is a bug in relaygate; run again with RELAYGATE_DEBUG=1 for the details and report it.\n`);
  if (env.RELAYGATE_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  return ExitCode.internal;
}
