/**
 * One route of the admin API, declared once: its method and path, who may call it, the zod schemas
 * of its parameters, query, body and answer, and the handler that calls a service. The server
 * registers these declarations with fastify and the OpenAPI document is generated from the same
 * ones, so the document cannot drift from what is served.
 */
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../access/principal.js';
import type { TenantId } from '../directory/index.js';

/**
 * `public`: no token (health, the OpenAPI document). `read`/`write`: any token, a write needs a
 * write token; what it may touch is scoped by the handler. `admin-*`: admin tokens only.
 */
export type Access = 'public' | 'read' | 'write' | 'admin-read' | 'admin-write';

/** Which revision the resource's ETag and a write's If-Match name. */
export type Revisioned = 'directory' | 'settings';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AuditNote {
  tenantId: TenantId | null;
  before?: unknown;
  after?: unknown;
}

export interface RouteContext<P, Q, B> {
  principal: Principal;
  params: P;
  query: Q;
  body: B;
  /** The revision the request's If-Match names (undefined: no If-Match, or `*`). */
  ifMatch: number | undefined;
  clientIp: string;
  /** What a write changed, for the audit log (every write is recorded; this adds the tenant and before/after). */
  audit(note: AuditNote): void;
  /** The revision the answer is at: sent as its ETag. */
  revision(n: number): void;
  reply: FastifyReply;
}

/** An answer that is not JSON (a CSV report, a stream). */
export class RawAnswer {
  constructor(
    readonly contentType: string,
    readonly body: string | Buffer | Readable,
  ) {}
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ApiRoute<P extends z.ZodType | undefined = z.ZodType | undefined, Q extends z.ZodType | undefined = z.ZodType | undefined, B extends z.ZodType | undefined = z.ZodType | undefined, R extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** OpenAPI style: `/v1/tenants/{tenant}`. */
  path: string;
  /** A stable name for the operation (OpenAPI operationId). */
  id: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** Content types the body may come as (default: application/json). */
  bodyTypes?: readonly string[];
  /** Largest body read (default: the server's JSON limit). */
  bodyLimit?: number;
  response: R;
  /** Other content types the answer may come in (a CSV report), for the document. */
  alsoAnswers?: readonly string[];
  status?: number;
  revision?: Revisioned;
  handler(ctx: RouteContext<Out<P>, Out<Q>, Out<B>>): Promise<z.input<R> | RawAnswer>;
}

/** Declares a route with its types inferred from its schemas. */
export function route<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined, R extends z.ZodType = z.ZodType>(
  r: ApiRoute<P, Q, B, R>,
): ApiRoute {
  return r as unknown as ApiRoute;
}

export function isWrite(access: Access): boolean {
  return access === 'write' || access === 'admin-write';
}
