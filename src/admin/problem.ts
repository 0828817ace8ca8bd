/**
 * The admin API's boundary for errors: an RFC 9457 problem document whose `type` is the stable
 * error code of the service layer (docs/errors.md) and whose `status` comes from one table, as the
 * CLI's exit codes and the SMTP session's replies do. A bug is `internal` and says nothing more.
 */
import { z } from 'zod';
import { errorCodeOf, errorCodes, RelaygateError, type ErrorCode } from '../core/errors.js';
import { formatIssue, type DirectoryIssue } from '../directory/index.js';

export const problemStatus: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  'stale-revision': 412,
  unsupported: 415,
  'too-large': 413,
  unauthorized: 401,
  forbidden: 403,
  'rate-limited': 429,
  'store-unavailable': 503,
  'store-full': 507,
  unavailable: 503,
  'delivery-failed': 502,
  internal: 500,
});

const titles: Readonly<Record<ErrorCode, string>> = Object.freeze({
  invalid: 'The request is not valid',
  'not-found': 'Not found',
  conflict: 'The request conflicts with the current state',
  'stale-revision': 'The resource changed since the revision named in If-Match',
  unsupported: 'Unsupported content type',
  'too-large': 'The request body is too large',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed with this token',
  'rate-limited': 'Too many failed authentications',
  'store-unavailable': 'The store is unavailable',
  'store-full': 'The store is full',
  unavailable: 'A service relaygate needs is unavailable',
  'delivery-failed': 'Delivery failed',
  internal: 'Internal error',
});

/** One problem with one input: where (a JSON pointer into the request, or a directory path) and why. */
export const problemErrorSchema = z.object({ pointer: z.string(), detail: z.string() });

export const problemSchema = z
  .object({
    type: z.enum(errorCodes).describe('The stable error code (docs/errors.md), a URI reference relative to this API.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    field: z.string().optional().describe('The input field the problem is about, as the service names it.'),
    errors: z.array(problemErrorSchema).optional(),
    retryAfter: z.number().int().optional().describe('For rate-limited: seconds until the address may try again.'),
  });

export type Problem = z.infer<typeof problemSchema>;

/** The request's input was not the shape the route reads (its zod schema). */
export class RequestShapeError extends RelaygateError {
  constructor(readonly errors: ReadonlyArray<{ pointer: string; detail: string }>) {
    super('invalid', errors.length === 1 ? `${errors[0]!.pointer}: ${errors[0]!.detail}` : `${errors.length} problems with the request`, {
      details: { errors },
    });
    this.name = 'RequestShapeError';
  }
}

/** Where in the request `part` (body, query, params, header) a zod issue is. */
export function requestShapeError(part: string, issues: readonly z.core.$ZodIssue[]): RequestShapeError {
  return new RequestShapeError(
    issues.map((i) => ({
      pointer: `/${[part, ...i.path.filter((p): p is string | number => typeof p !== 'symbol').map(String)].map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`,
      detail: i.message,
    })),
  );
}

export function toProblem(err: unknown, instance: string): Problem {
  const code = errorCodeOf(err);
  const problem: Problem = {
    type: code,
    title: titles[code],
    status: problemStatus[code],
    detail: code === 'internal' ? 'relaygate failed to answer this request; the log has the details' : (err as RelaygateError).message,
    instance,
  };
  if (!(err instanceof RelaygateError) || code === 'internal') return problem;
  const field = err.details.field;
  if (typeof field === 'string') problem.field = field;
  if (err instanceof RequestShapeError) problem.errors = [...err.errors];
  const issues = err.details.issues;
  if (Array.isArray(issues)) problem.errors = (issues as DirectoryIssue[]).map((i) => ({ pointer: i.location, detail: formatIssue(i) }));
  if (typeof err.details.retryAfter === 'number') problem.retryAfter = err.details.retryAfter;
  return problem;
}
