/**
 * Failures of PostgreSQL itself as store errors: `store-full` when the server's disk is full,
 * `store-unavailable` when the server cannot be reached or used now (connection lost or refused,
 * shutting down, too many connections, a timeout, a serialisation failure or deadlock worth
 * retrying later, I/O trouble). Any other error (a bug: bad SQL, a broken constraint) is returned
 * as it is.
 */
import pg from 'pg';
import { RelaygateError } from '../../core/errors.js';

/** SQLSTATE classes and codes that say the server, not the statement, is the problem. */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0|57014|40001|40P01|25P03|58|XX|28|3D000)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
/** node-postgres reports a lost or unobtainable connection with these messages and no code. */
const LOST_CONNECTION = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)/;

export function postgresFailure(err: unknown): unknown {
  if (err instanceof RelaygateError || !(err instanceof Error)) return err;
  const code = (err as Error & { code?: unknown }).code;
  if (err instanceof pg.DatabaseError && typeof code === 'string') {
    if (code === '53100') return new RelaygateError('store-full', err.message, { details: { sqlstate: code }, cause: err });
    if (UNAVAILABLE_SQLSTATE.test(code)) return new RelaygateError('store-unavailable', err.message, { details: { sqlstate: code }, cause: err });
    return err;
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new RelaygateError('store-unavailable', err.message, { details: { errno: code }, cause: err });
  }
  if (LOST_CONNECTION.test(err.message)) return new RelaygateError('store-unavailable', err.message, { cause: err });
  return err;
}
