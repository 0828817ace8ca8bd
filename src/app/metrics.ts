/**
 * The metrics of `relaygate serve` (relaygate.yaml `metrics`): the registry on this process's
 * stores, its recorder for the relay and delivery, and the /metrics listener. Also the one way
 * another fastify server of the process (the admin API) mounts the same route.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RelaygateConfig } from '../config/index.js';
import { messageOf, RelaygateError } from '../core/errors.js';
import { createMetrics, type CertificateExpirySource, type Metrics } from '../observability/metrics.js';
import { mountMetrics, startMetricsServer, type MetricsAccess, type RunningMetricsServer } from '../observability/metrics-http.js';
import type { QueueStatsStore } from '../store/ports.js';

export type MetricsConfig = NonNullable<RelaygateConfig['metrics']>;

export interface ServedMetrics extends Metrics {
  /** Where /metrics answers. */
  host: string;
  port: number;
  access: MetricsAccess;
  close(): Promise<void>;
}

export function metricsAccess(config: MetricsConfig): MetricsAccess {
  return { token: config.token, allowFrom: config.allowFrom };
}

/** Builds the registry and starts its listener; a port that cannot be bound is `unavailable`, naming it. */
export async function serveMetrics(
  config: MetricsConfig,
  sources: { queueStats: QueueStatsStore; certificates: CertificateExpirySource },
): Promise<ServedMetrics> {
  const metrics = createMetrics({ tenantLabelLimit: config.tenantLabelLimit, queueStats: sources.queueStats, certificates: sources.certificates });
  const access = metricsAccess(config);
  let server: RunningMetricsServer;
  try {
    server = await startMetricsServer({ host: config.address.host, port: config.address.port, registry: metrics.registry, access });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : messageOf(err);
    throw new RelaygateError('unavailable', `metrics: cannot listen on ${config.address.address}: ${reason}`, {
      details: { field: 'metrics.address', host: config.address.host, port: config.address.port },
      cause: err,
    });
  }
  return { ...metrics, host: server.host, port: server.port, access, close: () => server.close() };
}

/** Mounts this process's /metrics, with its own guard, on another fastify instance (the admin API). */
export function mountServedMetrics(app: FastifyInstance, metrics: Pick<ServedMetrics, 'registry' | 'access'>): void {
  mountMetrics(app, metrics.registry, metrics.access);
}

/** notAfter of the PEM certificate file (the first certificate); null when there is none or it cannot be read. */
export function certificateNotAfter(path: string | undefined): Date | null {
  if (!path) return null;
  try {
    const at = new Date(new X509Certificate(readFileSync(path)).validTo);
    return Number.isNaN(at.getTime()) ? null : at;
  } catch {
    return null;
  }
}
