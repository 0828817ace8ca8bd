/**
 * Composition of the admin API: the services it calls, built on the same stores `serve` uses, and
 * its listener on `admin.address` (HTTPS when `admin.tls` names a certificate).
 */
import { readFileSync } from 'node:fs';
import { AuditService } from '../access/audit.js';
import { AuthThrottle } from '../access/auth-throttle.js';
import { TokenService } from '../access/tokens.js';
import type { AdminDeps, ReadinessCheck } from '../admin/deps.js';
import { DkimService } from '../delivery/dkim-service.js';
import { RelayedHeadersService } from '../delivery/relayed-headers-service.js';
import { RoutesService } from '../delivery/routes-service.js';
import { SrsService } from '../delivery/srs-service.js';
import { QueueAdmin } from '../queue/admin.js';
import { ImpactReportService } from '../compliance/impact-report.js';
import { TraceSearchService } from '../compliance/trace-search.js';
import { ConnectorHealthService } from '../health/health-service.js';
import { QuotaService } from '../smtp/quota-service.js';
import { caBundleTrustStore, nodeRootsTrustStore } from '../tls/pem-chain.js';
import { buildAdminApi, type AdminApi } from '../admin/server.js';
import type { RelaygateConfig } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { messageOf, RelaygateError } from '../core/errors.js';
import type { LogFn } from '../observability/logger.js';
import { WebhookService } from '../webhooks/webhook-service.js';
import { mountServedMetrics, type ServedMetrics } from './metrics.js';
import { asStoreFailure, type Stores } from './stores.js';

export interface AdminParts {
  config: Pick<RelaygateConfig, 'admin' | 'hostname'> & {
    delivery: Pick<RelaygateConfig['delivery'], 'srsDomain'>;
    limits: Pick<RelaygateConfig['limits'], 'allowAddressLiterals'>;
    tls: Pick<RelaygateConfig['tls'], 'clientCa'>;
    /** Absent: private targets refused, as by default. */
    webhooks?: Pick<RelaygateConfig['webhooks'], 'allowPrivateTargets'>;
  };
  stores: Stores;
  clock?: Clock;
  log?: LogFn;
  /** The other readiness checks of the process (the SMTP listeners). */
  readiness?: () => Record<string, ReadinessCheck>;
  /** The client CA file the relay's listeners trust when it is not tls.clientCa (the demo's own). */
  clientCa?: string | undefined;
  /** serve's metrics: /metrics is mounted on the API too, behind the metrics' own guard. */
  metrics?: Pick<ServedMetrics, 'registry' | 'access'> | null;
}

export function adminDeps(parts: AdminParts): AdminDeps {
  const { stores, config } = parts;
  const clock = parts.clock ?? systemClock;
  return {
    directory: stores.directory,
    tokens: new TokenService({ tokens: stores.tokens, directory: stores.directory, clock }),
    audit: new AuditService({ log: stores.audit, clock }),
    throttle: new AuthThrottle({ maxFailures: config.admin.maxAuthFailures, windowMs: config.admin.authFailureWindow, clock }),
    clock,
    readiness: async () => {
      let store: ReadinessCheck;
      try {
        store = { ok: true, detail: `revision ${await stores.directory.revision()}` };
      } catch (err) {
        store = { ok: false, detail: messageOf(asStoreFailure(err)) };
      }
      return { store, ...(parts.readiness?.() ?? {}) };
    },
    settings: {
      settings: stores.tenantSettings,
      routes: new RoutesService({ directory: stores.directory, settings: stores.tenantSettings }),
      dkim: new DkimService({ directory: stores.directory, settings: stores.tenantSettings }, () => clock.now().getTime()),
      srs: new SrsService({ directory: stores.directory, settings: stores.tenantSettings }, config.delivery.srsDomain ?? config.hostname),
      quota: new QuotaService({ directory: stores.directory, settings: stores.tenantSettings, counters: stores.counters }, () => clock.now()),
      relayedHeaders: new RelayedHeadersService({ directory: stores.directory, settings: stores.tenantSettings }),
    },
    queue: new QueueAdmin({ store: stores.queueAdmin, directory: stores.directory, bodies: stores.bodies, clock }),
    check: {
      policy: { allowAddressLiterals: config.limits.allowAddressLiterals },
      // The relay's own trust: its tls.clientCa, else Node's roots, as the TLS listeners use.
      trust: () => {
        const ca = config.tls.clientCa ?? parts.clientCa;
        return ca
          ? caBundleTrustStore(ca, 'tls.clientCa', `${config.tls.clientCa ? 'tls.clientCa' : "the demo's client CA"} ${ca}, as the relay does`)
          : nodeRootsTrustStore("Node's root certificates: the configuration sets no tls.clientCa, and the relay then trusts these");
      },
    },
    trace: new TraceSearchService(stores, clock),
    reports: {
      impact: new ImpactReportService({ decisions: stores.decisions, directory: stores.directory }, clock),
      health: new ConnectorHealthService({ directory: stores.directory, health: stores.connectorHealth, clock }),
    },
    webhooks: new WebhookService({ directory: stores.directory, webhooks: stores.webhooks, clock, allowPrivateTargets: config.webhooks?.allowPrivateTargets ?? false }),
    classifyError: asStoreFailure,
    maxBodySize: config.admin.maxBodySize,
    ...(parts.log ? { log: parts.log } : {}),
  };
}

export function adminApi(parts: AdminParts): AdminApi {
  const tls = parts.config.admin.tls;
  let material: { cert: Buffer; key: Buffer } | null = null;
  if (tls) {
    try {
      material = { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
    } catch (err) {
      throw new RelaygateError('invalid', `admin.tls: ${messageOf(err)}`, { details: { field: 'admin.tls' }, cause: err });
    }
  }
  const api = buildAdminApi(adminDeps(parts), { tls: material });
  if (parts.metrics && metricsGuarded(parts.metrics.access, parts.config.admin.host)) mountServedMetrics(api.app, parts.metrics);
  return api;
}

/**
 * /metrics keeps its own guard (metrics.token, metrics.allowFrom) on the API's address; without
 * either it is mounted only where the API listens on loopback, as the metrics listener itself
 * allows an unguarded address only on loopback.
 */
function metricsGuarded(access: ServedMetrics['access'], host: string): boolean {
  return access.token !== undefined || (access.allowFrom ?? []).length > 0 || host === 'localhost' || /^127\.|^::1$/.test(host);
}

export interface RunningAdmin {
  api: AdminApi;
  /** `http://host:port` or `https://...` as bound (port 0 in the file: the port chosen). */
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** Builds the API and listens on admin.address; a port it cannot bind is `unavailable`. */
export async function startAdmin(parts: AdminParts): Promise<RunningAdmin> {
  const api = adminApi(parts);
  const { host, port, address } = parts.config.admin;
  try {
    await api.app.listen({ host, port });
  } catch (err) {
    await api.app.close();
    throw new RelaygateError('unavailable', `admin.address ${address}: ${messageOf(err)}`, { details: { field: 'admin.address' }, cause: err });
  }
  const bound = api.app.server.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    api,
    url: `${parts.config.admin.tls ? 'https' : 'http'}://${shown}:${boundPort}`,
    host,
    port: boundPort,
    stop: () => api.app.close(),
  };
}
