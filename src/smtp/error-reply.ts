/**
 * The SMTP boundary's error mapper (maddy's wrapErr): a failure inside a session is logged with its
 * code, details and causes, and the client gets a generic reply that names none of them.
 *
 * Every code but one answers `451 4.3.0`: what the client did wrong is already a reply of the
 * policy or the session (Replies), so an error that reaches this point is ours, and "unknown =
 * temporary" (the client keeps the message and tries again). A full disk answers RFC 3463's own
 * `452 4.3.1`, still temporary, which tells the sending administrator what is wrong. The table is
 * written out so that a new code is a decision made here.
 */
import { errorCodeOf, type ErrorCode } from '../core/errors.js';
import { Replies, type SmtpReply } from '../core/reply.js';
import type { ConnectionContext } from './connection-context.js';

export const sessionFailureReplies: Readonly<Record<ErrorCode, SmtpReply>> = Object.freeze({
  invalid: Replies.temporaryFailure,
  'not-found': Replies.temporaryFailure,
  conflict: Replies.temporaryFailure,
  'stale-revision': Replies.temporaryFailure,
  unsupported: Replies.temporaryFailure,
  'too-large': Replies.temporaryFailure,
  unauthorized: Replies.temporaryFailure,
  forbidden: Replies.temporaryFailure,
  'rate-limited': Replies.temporaryFailure,
  'store-unavailable': Replies.temporaryFailure,
  'store-full': Replies.insufficientStorage,
  unavailable: Replies.temporaryFailure,
  'delivery-failed': Replies.temporaryFailure,
  internal: Replies.temporaryFailure,
});

export interface FailureSink {
  /** Logs the error with the session it happened in (relay-server: the pino logger). */
  onError(err: unknown, ctx: ConnectionContext | undefined): void;
}

/** Logs `err` and returns the reply the client gets for it. */
export function sessionFailure(sink: FailureSink, err: unknown, ctx: ConnectionContext | undefined): SmtpReply {
  sink.onError(err, ctx);
  return sessionFailureReplies[errorCodeOf(err)];
}
