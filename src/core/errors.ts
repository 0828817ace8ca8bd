/**
 * The one error base: every error relaygate throws on purpose is a RelaygateError with a stable
 * `code` from a closed list, structured `details` and the `cause` it wraps. Boundaries map the code,
 * never the class: the CLI to an exit code (cli/errors.ts), an SMTP session to a reply
 * (smtp/error-reply.ts), and the admin API to an RFC 9457 problem document (admin/problem.ts). Anything that is not a
 * RelaygateError is a bug and is reported as `internal`. docs/errors.md has the table.
 */

export const errorCodes = [
  /** The input (a file, a field, an argument, bytes from a peer) is not acceptable. */
  'invalid',
  /** What the request names does not exist. */
  'not-found',
  /** The request contradicts the current state: it exists already, is taken, is locked, cannot move there. */
  'conflict',
  /** The request was written against a revision that has moved on (a stale `If-Match`): read again, then retry. */
  'stale-revision',
  /** Valid, but not something this version does. */
  'unsupported',
  /** The input is larger than the limit that applies to it. */
  'too-large',
  /** No credentials, or credentials that do not (or no longer) prove who is asking. */
  'unauthorized',
  /** The credentials are good, but they do not allow this. */
  'forbidden',
  /** Too many attempts from one client: try again later. */
  'rate-limited',
  /** The store (database, spool, data directory) cannot be opened, read or written. */
  'store-unavailable',
  /** The store's disk is full (ENOSPC, SQLITE_FULL): nothing can be written until there is space. */
  'store-full',
  /** Something outside relaygate is unavailable: DNS, a port, a peer, a program it needs. */
  'unavailable',
  /** A next hop refused the message or could not be reached (the failure is in `details`). */
  'delivery-failed',
  /** A bug: relaygate did something it should not have. */
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface RelaygateErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
}

export class RelaygateError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: RelaygateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelaygateError';
    this.code = code;
    this.details = Object.freeze({ ...options.details });
  }
}

/** The code a boundary maps: a RelaygateError's own, `internal` for anything else. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof RelaygateError ? err.code : 'internal';
}

/** Structured log fields for an error: code, details, and the chain of causes' messages. */
export function errorLogFields(err: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { code: errorCodeOf(err) };
  if (err instanceof RelaygateError && Object.keys(err.details).length > 0) fields.details = err.details;
  const causes: string[] = [];
  let cause = err instanceof Error ? err.cause : undefined;
  for (let i = 0; cause !== undefined && i < 5; i++) {
    causes.push(cause instanceof Error ? cause.message : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (causes.length > 0) fields.causes = causes;
  if (!(err instanceof RelaygateError) && err instanceof Error && err.stack) fields.stack = err.stack;
  return fields;
}

/** The message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
