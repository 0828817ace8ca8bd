/**
 * `GET /metrics` for Prometheus, guarded on its own (metrics.token, metrics.allowFrom): the same
 * route on the standalone metrics listener (`startMetricsServer`) and, through `mountMetrics`, on
 * any other fastify instance (the admin API). A client outside allowFrom gets 403; with a token
 * configured, a request without `Authorization: Bearer <token>` gets 401, a wrong token 401 too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parsePrefix, prefixContains, type ParsedPrefix } from '../core/ip-prefix.js';
import type { Registry } from 'prom-client';

export interface MetricsAccess {
  /** Bearer token a scrape must present; none: no token asked for. */
  token?: string | undefined;
  /** Client address ranges (canonical CIDR) allowed to scrape; empty: any client that reaches the address. */
  allowFrom?: readonly string[];
}

export const METRICS_PATH = '/metrics';

/** Registers GET (and HEAD) /metrics with its guard on `app`; other methods answer 405. */
export function mountMetrics(app: FastifyInstance, registry: Registry, access: MetricsAccess): void {
  const guard = metricsGuard(access);
  app.route({
    method: ['GET', 'HEAD'],
    url: METRICS_PATH,
    onRequest: guard,
    handler: async (_request, reply) => {
      const text = await registry.metrics();
      return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text);
    },
  });
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: METRICS_PATH,
    handler: async (_request, reply) => reply.code(405).header('allow', 'GET, HEAD').type('text/plain').send('method not allowed\n'),
  });
}

export interface RunningMetricsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** The standalone metrics listener (metrics.address): /metrics only. */
export async function startMetricsServer(options: { host: string; port: number; registry: Registry; access: MetricsAccess }): Promise<RunningMetricsServer> {
  const app = Fastify({ logger: false });
  mountMetrics(app, options.registry, options.access);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { host: options.host, port, close: () => app.close() };
}

function metricsGuard(access: MetricsAccess): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const ranges = (access.allowFrom ?? []).map((c) => parsePrefix(c)).filter((p): p is ParsedPrefix => p !== null);
  const expected = access.token === undefined ? null : digest(access.token);
  return async (request, reply) => {
    if (ranges.length > 0 && !allowed(request.socket.remoteAddress ?? '', ranges)) {
      await reply.code(403).type('text/plain').send('forbidden: this client address may not scrape metrics\n');
      return;
    }
    if (expected === null) return;
    const given = bearer(request.headers.authorization);
    if (given === null) {
      await reply.code(401).header('www-authenticate', 'Bearer realm="relaygate-metrics"').type('text/plain').send('a bearer token is required\n');
      return;
    }
    // Compared as digests: constant time, whatever the lengths.
    if (!timingSafeEqual(digest(given), expected)) {
      await reply.code(401).header('www-authenticate', 'Bearer realm="relaygate-metrics", error="invalid_token"').type('text/plain').send('invalid token\n');
    }
  };
}

function bearer(header: string | undefined): string | null {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function allowed(address: string, ranges: readonly ParsedPrefix[]): boolean {
  // IPv4-mapped IPv6 peers are IPv4 (parsePrefix says so).
  const ip = parsePrefix(address);
  return ip !== null && ranges.some((range) => prefixContains(range, ip));
}
