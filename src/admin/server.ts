/**
 * The admin API on fastify: registers the route declarations (api-route.ts), authenticates the
 * bearer token, applies the route's access level, parses the request with the route's zod schemas,
 * records every write in the audit log, and answers errors as problem documents (problem.ts). It
 * holds no rules of its own: handlers call the services the CLI calls.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireAdmin, requireWrite, type Principal } from '../access/principal.js';
import { errorLogFields, RelaygateError } from '../core/errors.js';
import { isWrite, RawAnswer, route, type ApiRoute, type AuditNote, type RouteContext } from './api-route.js';
import type { AdminDeps } from './deps.js';
import { openApiDocument } from './openapi.js';
import { requestShapeError, toProblem } from './problem.js';
import { etag, parseIfMatch } from './revision.js';
import { accessRoutes } from './routes/access.js';
import { checkRoutes } from './routes/check.js';
import { directoryRoutes } from './routes/directory.js';
import { queueRoutes } from './routes/queue.js';
import { reportRoutes } from './routes/reports.js';
import { traceRoutes } from './routes/trace.js';
import { settingsRoutes } from './routes/settings.js';
import { webhookRoutes } from './routes/webhooks.js';

/** JSON bodies are small; a route that takes a message says so (bodyLimit). */
export const JSON_BODY_LIMIT = 1024 * 1024;
export const API_VERSION = '0.1.0';

/** Who a request without a token is: it sees no tenant and may write nothing. */
const anonymous: Principal = Object.freeze({ tokenId: null, name: 'anonymous', role: 'tenant', tenantId: null, scope: 'read', expiresAt: null });

export interface AdminServerOptions {
  /** PEM certificate chain and key: HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer } | null;
  /** More routes (composed by app/: the ones whose services only some installations have). */
  routes?: readonly ApiRoute[];
}

export interface AdminApi {
  app: FastifyInstance;
  routes: readonly ApiRoute[];
}

export function buildAdminApi(deps: AdminDeps, options: AdminServerOptions = {}): AdminApi {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxBodySize,
    forceCloseConnections: true,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  // Bodies are JSON unless a route names another type; text/plain is not read at all.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('message/rfc822', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const routes: ApiRoute[] = [
    ...systemRoutes(deps),
    ...directoryRoutes(deps),
    ...settingsRoutes({ directory: deps.directory, ...deps.settings }),
    ...queueRoutes({ queue: deps.queue, directory: deps.directory }),
    ...traceRoutes({ directory: deps.directory, trace: deps.trace }),
    ...reportRoutes({ directory: deps.directory, ...deps.reports, ...(deps.log ? { log: deps.log } : {}) }),
    ...checkRoutes({ directory: deps.directory, clock: deps.clock, maxBodySize: deps.maxBodySize, ...deps.check }),
    ...webhookRoutes({ directory: deps.directory, webhooks: deps.webhooks }),
    ...accessRoutes(deps),
    ...(options.routes ?? []),
  ];
  routes.push(
    route({
      method: 'GET', path: '/openapi.json', id: 'openApiDocument', tag: 'system', access: 'public',
      summary: 'This document: the OpenAPI 3.1 description of every route', response: z.record(z.string(), z.unknown()),
      handler: async () => document,
    }),
  );
  const document = openApiDocument(routes, API_VERSION);

  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.path.replace(/\{(\w+)\}/g, ':$1'),
      bodyLimit: r.bodyLimit ?? JSON_BODY_LIMIT,
      handler: (req, reply) => answer(deps, r, req, reply),
    });
  }
  app.setNotFoundHandler((req, reply) => {
    sendProblem(reply, new RelaygateError('not-found', `no resource ${req.method} ${pathOf(req)}`), pathOf(req));
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const classified = fromFastify(err, req) ?? deps.classifyError(err);
    if (!(classified instanceof RelaygateError) || classified.code === 'internal') {
      deps.log?.('error', `admin API: ${req.method} ${pathOf(req)} failed: ${err.message}`, errorLogFields(classified));
    }
    sendProblem(reply, classified, pathOf(req));
  });
  return { app, routes };
}

function pathOf(req: FastifyRequest): string {
  return req.url.split('?')[0]!;
}

function sendProblem(reply: FastifyReply, err: unknown, instance: string): FastifyReply {
  const problem = toProblem(err, instance);
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="relaygate"');
  if (problem.retryAfter !== undefined) reply.header('retry-after', String(problem.retryAfter));
  return reply.code(problem.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem));
}

/** fastify's own errors (bodies it could not read) as the codes of the service layer. */
function fromFastify(err: FastifyError, req: FastifyRequest): RelaygateError | undefined {
  if (err instanceof RelaygateError) return err;
  if (typeof err.code !== 'string' || !err.code.startsWith('FST_')) return undefined;
  if (err.statusCode === 413) return new RelaygateError('too-large', `the request body is larger than ${req.routeOptions.bodyLimit ?? JSON_BODY_LIMIT} bytes`);
  if (err.statusCode === 415) {
    return new RelaygateError('unsupported', `this resource does not read ${JSON.stringify(req.headers['content-type'] ?? '')} bodies`);
  }
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return new RelaygateError('invalid', `the body is not JSON: ${err.message}`, { details: { field: 'body' } });
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new RelaygateError('invalid', err.message);
  return undefined;
}

async function authenticate(deps: AdminDeps, req: FastifyRequest): Promise<Principal> {
  const header = req.headers.authorization;
  if (header === undefined || header === '') throw new RelaygateError('unauthorized', 'this needs a token: Authorization: Bearer <token>');
  deps.throttle.check(req.ip);
  const m = /^Bearer +(\S+) *$/i.exec(header);
  try {
    if (!m) throw new RelaygateError('unauthorized', 'expected Authorization: Bearer <token>');
    return await deps.tokens.authenticate(m[1]!);
  } catch (err) {
    if (err instanceof RelaygateError && err.code === 'unauthorized') deps.throttle.failed(req.ip);
    throw err;
  }
}

function parsePart<S extends z.ZodType | undefined>(schema: S, value: unknown, part: string): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw requestShapeError(part, parsed.error.issues);
  return parsed.data;
}

function mediaType(req: FastifyRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

async function answer(deps: AdminDeps, r: ApiRoute, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const principal = r.access === 'public' ? anonymous : await authenticate(deps, req);
  if (r.access === 'admin-read' || r.access === 'admin-write') requireAdmin(principal);
  if (isWrite(r.access)) requireWrite(principal);
  if (r.body !== undefined) {
    if (req.body === undefined || req.body === null) throw requestShapeError('body', [{ code: 'custom', path: [], message: 'a body is required', input: undefined }]);
    const types = r.bodyTypes ?? ['application/json'];
    if (!types.includes(mediaType(req))) throw new RelaygateError('unsupported', `this resource reads ${types.join(' or ')} bodies, not ${JSON.stringify(mediaType(req))}`);
  }
  let note: AuditNote | undefined;
  let revision: number | undefined;
  const ctx: RouteContext<unknown, unknown, unknown> = {
    principal,
    params: parsePart(r.params, req.params, 'params'),
    query: parsePart(r.query, req.query ?? {}, 'query'),
    // A body of another type than JSON (a message/rfc822 upload) is the handler's to read, as bytes.
    body: r.body === undefined || mediaType(req) !== 'application/json' ? undefined : parsePart(r.body, req.body, 'body'),
    ifMatch: r.revision !== undefined && r.method !== 'GET' ? parseIfMatch(req.headers['if-match'], r.revision) : undefined,
    clientIp: req.ip,
    audit: (n) => void (note = n),
    revision: (n) => void (revision = n),
    reply,
  };
  const result = await (r.handler as (c: typeof ctx) => Promise<unknown>)(ctx);
  if (isWrite(r.access)) {
    await deps.audit.record(principal, {
      tenantId: note?.tenantId ?? null,
      action: `${r.method} ${r.path}`,
      target: pathOf(req),
      clientIp: req.ip,
      before: note?.before ?? null,
      after: note ? (note.after ?? null) : result instanceof RawAnswer ? null : result,
    });
  }
  if (revision !== undefined && r.revision !== undefined) reply.header('etag', etag(r.revision, revision));
  // A handler may have chosen the status itself (readyz's 503).
  if (reply.statusCode === 200) reply.code(r.status ?? 200);
  if (result instanceof RawAnswer) return reply.type(result.contentType).send(result.body);
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(result));
}

const checkView = z.object({ ok: z.boolean(), detail: z.string() });

function systemRoutes(deps: AdminDeps): ApiRoute[] {
  return [
    route({
      method: 'GET', path: '/healthz', id: 'health', tag: 'system', access: 'public',
      summary: 'The process answers', response: z.object({ status: z.literal('ok') }),
      handler: async () => ({ status: 'ok' as const }),
    }),
    route({
      method: 'GET', path: '/readyz', id: 'ready', tag: 'system', access: 'public',
      summary: 'Ready to serve: the store reachable, the listeners up (503 when not)',
      response: z.object({ status: z.enum(['ready', 'not-ready']), checks: z.record(z.string(), checkView) }),
      handler: async (ctx) => {
        const checks = await deps.readiness();
        const ready = Object.values(checks).every((c) => c.ok);
        ctx.reply.code(ready ? 200 : 503);
        return { status: ready ? ('ready' as const) : ('not-ready' as const), checks };
      },
    }),
  ];
}
