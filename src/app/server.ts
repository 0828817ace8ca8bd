/**
 * Composition root of `relaygate serve`: the stores, the policy snapshot, the acceptor with its
 * group commit, and the SMTP listeners, started and stopped together.
 */
import { traceLogger } from './trace-log.js';
import { TracePruner } from './trace-pruner.js';
import { retentionByKind } from '../trace/retention.js';
import { demoDirectory } from '../directory/index.js';
import { demoTlsFiles, type DemoTlsFiles } from './demo-tls.js';
import type { Stores } from './stores.js';
import type { RelaygateConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { MessageAcceptor } from '../queue/accept.js';
import { GroupCommitter } from '../queue/accept-group-commit.js';
import { ORPHAN_GRACE_MS, removeOrphanBodies } from '../queue/orphan-bodies.js';
import type { AcceptStore, BodyStore } from '../store/ports.js';
import { RelayServer, type BoundListener, type RelayServerDeps, type RelayServerSettings } from '../smtp/relay-server.js';
import { DeliveryService, acceptedDomainCheck } from './delivery.js';
import type { RecipientDecision } from '../policy/types.js';
import { SessionPolicy, SnapshotCache, type DirectorySource } from '../smtp/policy-source.js';
import { SrsReturnFacts } from '../smtp/srs-return-facts.js';
import { RecipientQuota } from '../smtp/recipient-quota.js';
import { TenantSettingsCache } from '../store/tenant-settings-snapshot.js';
import type { MetricsRecorder } from '../core/metrics-recorder.js';
import { certificateNotAfter, serveMetrics, type ServedMetrics } from './metrics.js';
import type { TrafficObserver } from '../smtp/traffic-observer.js';
import { ConnectorHealthRecorder } from '../health/recorder.js';
import { ConnectorHealthWatch } from '../health/watch.js';
import { ConnectorHealthService } from '../health/health-service.js';
import { WebhookWorker } from '../webhooks/worker.js';
import { healthWarningNotifier } from '../webhooks/health-events.js';

import type { LogFn } from '../observability/logger.js';
export type { LogFn };

export function relaySettings(config: RelaygateConfig, tlsOverride?: RelayServerSettings['tls']): RelayServerSettings {
  return {
    hostname: config.hostname,
    listeners: config.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, tls: l.tls, maxMessageSize: l.maxMessageSize })),
    tls: tlsOverride ?? { cert: config.tls.cert, key: config.tls.key, clientCa: config.tls.clientCa },
    proxyTrusted: config.proxy.trusted,
    limits: {
      maxMessageSize: config.limits.maxMessageSize,
      maxRecipients: config.limits.maxRecipients,
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
      maxConnectionsPerNetwork: config.limits.maxConnectionsPerNetwork,
      networkPrefixV4: config.limits.networkPrefixV4,
      networkPrefixV6: config.limits.networkPrefixV6,
      reservedShare: config.limits.reservedShare,
      pressureThreshold: config.limits.pressureThreshold,
      commandTimeout: config.limits.commandTimeout,
      commandDeadline: config.limits.commandDeadline,
      dataDeadline: config.limits.dataDeadline,
      pressureCommandTimeout: config.limits.pressureCommandTimeout,
      pressureDataTimeout: config.limits.pressureDataTimeout,
      maxUnknownCommands: config.limits.maxUnknownCommands,
      maxErrors: config.limits.maxErrors,
      maxLineLength: config.limits.maxLineLength,
      maxHops: config.limits.maxHops,
      allowAddressLiterals: config.limits.allowAddressLiterals,
    },
  };
}

export interface RelayParts {
  settings: RelayServerSettings;
  directory: DirectorySource;
  queue: AcceptStore;
  bodies: BodyStore;
  clock?: Clock;
  log?: LogFn;
  /** How often the directory revision is checked for changes. */
  directoryCheckMs?: number;
  /** A snapshot cache shared with other services of the process (one snapshot per revision). */
  snapshots?: SnapshotCache;
  /** Admission checks after the policy accepted a recipient (the daily recipient quota). */
  admitRecipient?: RelayServerDeps['admitRecipient'];
  /** Where the front end meets delivery: bounces to SRS addresses and a nudge per accepted message. */
  delivery?: Pick<RelayServerDeps, 'srsReturns'> & { onAccepted(): void };
  /** Connections, transactions, decisions and accept latency for the metrics. */
  metrics?: MetricsRecorder;
  /** Told what became of each refused command and each message (connector health). */
  traffic?: TrafficObserver;
}

export interface RunningRelay {
  server: RelayServer;
  acceptor: MessageAcceptor;
  listeners: BoundListener[];
  /** Stops accepting, closes sessions and waits for pending commits; says what it closed and committed. */
  stop(): Promise<StopSummary>;
}

/** What a stop found in progress and finished or closed. */
export interface StopSummary {
  /** SMTP sessions that were open (closed without a reply to a command in progress). */
  sessionsClosed: number;
  /** Messages and decision records committed while stopping (they were waiting for a commit round). */
  messagesCommitted: number;
  decisionsCommitted: number;
  /** A delivery pass was running and was waited for (serve only). */
  deliveryPassAwaited: boolean;
}

/** Builds and starts the SMTP front end on the given stores. */
export async function startRelay(parts: RelayParts): Promise<RunningRelay> {
  const log: LogFn = parts.log ?? (() => undefined);
  const committer = new GroupCommitter(parts.queue, (err, lost) =>
    log('error', `could not record ${lost} decisions: ${err instanceof Error ? err.message : String(err)}`),
  );
  const clock = parts.clock ?? systemClock;
  // A body younger than twice the DATA deadline may be a message another node is still receiving.
  const grace = Math.max(ORPHAN_GRACE_MS, 2 * parts.settings.limits.dataDeadline);
  const orphans = await removeOrphanBodies(parts.bodies, parts.queue, clock.now().getTime(), grace);
  if (orphans.length) log('warn', `removed ${orphans.length} spool files no message refers to (left by an interrupted acceptance)`);
  const delivery = parts.delivery;
  const acceptor = new MessageAcceptor(parts.bodies, committer, delivery ? () => delivery.onAccepted() : undefined, parts.metrics, traceLogger(log));
  const policy = new SessionPolicy(parts.snapshots ?? new SnapshotCache(parts.directory, parts.directoryCheckMs ?? 1000), {
    allowAddressLiterals: parts.settings.limits.allowAddressLiterals,
  }, parts.metrics);
  const server = new RelayServer({
    settings: parts.settings,
    policy,
    acceptor,
    clock,
    log,
    ...(delivery?.srsReturns ? { srsReturns: delivery.srsReturns } : {}),
    ...(parts.admitRecipient ? { admitRecipient: parts.admitRecipient } : {}),
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
    ...(parts.traffic ? { traffic: parts.traffic } : {}),
  });
  const listeners = await server.start();
  return {
    server,
    acceptor,
    listeners,
    async stop() {
      const before = { ...acceptor.stats };
      const sessionsClosed = await server.stop();
      await sessionsEnded(server);
      await acceptor.drain();
      return {
        sessionsClosed,
        messagesCommitted: acceptor.stats.messages - before.messages,
        decisionsCommitted: acceptor.stats.decisions - before.decisions,
        deliveryPassAwaited: false,
      };
    },
  };
}

/**
 * The listeners are closed, but a TLS socket's own close (which ends its session: an unfinished
 * transaction's accepts are recorded then) can come a few turns of the event loop later. Waits for
 * those, a bounded number of turns.
 */
async function sessionsEnded(server: RelayServer): Promise<void> {
  for (let turn = 0; turn < 100 && server.tracked.sessions > 0; turn++) await new Promise((resolve) => setTimeout(resolve, turn < 10 ? 0 : 10));
}

/** What `serve` made for the built-in demo settings. */
export interface DemoRun {
  /** The demo's TLS files (null when no listener uses TLS). */
  tls: DemoTlsFiles | null;
}

export interface ServeOptions {
  config: RelaygateConfig;
  stores: Stores;
  log?: LogFn;
}

/**
 * `relaygate serve`: on the configured stores. With the built-in demo settings (no relaygate.yaml)
 * an empty directory is seeded with the demo tenants and a demo certificate is made.
 */
export async function serve({ config, stores, log }: ServeOptions): Promise<
  RunningRelay & { demo: DemoRun | null; delivery: DeliveryService | null; quota: RecipientQuota; metrics: ServedMetrics | null; webhooks: WebhookWorker }
> {
  const demo = config.configFile === null;
  if (demo && (await stores.directory.revision()) === 0) await stores.directory.replace(demoDirectory);
  const needsTls = config.listeners.some((l) => l.tls !== 'none');
  const demoTls = demo && needsTls && !config.tls.cert ? demoTlsFiles(config.dataDir, config.hostname) : null;
  const tls = demoTls ? { cert: demoTls.cert, key: demoTls.key, clientCa: config.tls.clientCa ?? demoTls.clientCa } : undefined;
  // One directory snapshot per revision for the whole process: the sessions and SRS share it.
  const snapshots = new SnapshotCache(stores.directory);
  // Tenant settings the same way: one snapshot per revision, for RCPT (quota) and delivery.
  const settings = new TenantSettingsCache(stores.tenantSettings, snapshots);
  await settings.snapshot();
  const quota = new RecipientQuota({ settings, counters: stores.counters, clock: systemClock, ...(log ? { log } : {}) });
  const srsSecret = await stores.secrets.secret('srs', Date.now());
  const health = new ConnectorHealthRecorder({ store: stores.connectorHealth, ...(log ? { log } : {}) });
  health.seed(await stores.connectorHealth.read({ since: '9999-12-31' }));
  // First: a metrics port that cannot be bound stops the start before anything else runs.
  const metrics = config.metrics
    ? await serveMetrics(config.metrics, {
        queueStats: stores.queueStats,
        // The connectors' certificates as connector health keeps them (every node's sightings).
        certificates: new ConnectorHealthService({ directory: stores.directory, health: stores.connectorHealth }),
      })
    : null;
  const delivery = config.delivery.enabled ? deliveryService(config, stores, snapshots, settings, srsSecret, log, metrics) : null;
  const relay = await startRelay({
    traffic: health,
    settings: relaySettings(config, tls),
    directory: stores.directory,
    snapshots,
    queue: stores.queue,
    bodies: stores.bodies,
    admitRecipient: quotaCheck(quota),
    ...(log ? { log } : {}),
    ...(delivery ? { delivery: frontEndHooks(delivery, stores, log) } : {}),
    ...(metrics ? { metrics: metrics.recorder } : {}),
  }).catch(async (err: unknown) => {
    await metrics?.close();
    throw err;
  });
  const certificate = tls?.cert ?? config.tls.cert;
  metrics?.watch({ openConnections: () => relay.server.openConnections, serverCertificateNotAfter: () => certificateNotAfter(certificate) });
  quota.start();
  health.start();
  const watch = new ConnectorHealthWatch({
    directory: stores.directory, health: stores.connectorHealth, onWarnings: healthWarningNotifier({ directory: stores.directory, webhooks: stores.webhooks }), ...(log ? { log } : {}),
  });
  await watch.start();
  // Delivery starts after the relay: startRelay sweeps orphaned spool files first.
  await delivery?.start();
  const webhooks = webhookWorker(config, stores, log, metrics);
  webhooks.start();
  const pruner = new TracePruner({
    trace: stores.trace,
    retention: retentionByKind(config.trace.retention),
    clock: systemClock,
    intervalMs: config.trace.pruneInterval,
    batchSize: config.trace.pruneBatch,
    ...(log ? { log } : {}),
  });
  pruner.start();
  return {
    ...relay,
    demo: demo ? { tls: demoTls } : null,
    delivery,
    quota,
    metrics,
    webhooks,
    async stop() {
      await pruner.stop();
      const summary = await relay.stop();
      // After the sessions closed: what they saw last is written too.
      await health.stop();
      watch.stop();
      const deliveryPassAwaited = (await delivery?.stop()) ?? false;
      await webhooks.stop();
      await quota.stop();
      await metrics?.close();
      return { ...summary, deliveryPassAwaited };
    },
  };
}

/** The worker that delivers the webhook outbox, on this node's id (nodes sharing PostgreSQL share the outbox). */
function webhookWorker(config: RelaygateConfig, stores: Stores, log: ServeOptions['log'], metrics: ServedMetrics | null): WebhookWorker {
  return new WebhookWorker({
    store: stores.webhooks,
    clock: systemClock,
    node: config.nodeId,
    allowPrivateTargets: config.webhooks.allowPrivateTargets,
    pollIntervalMs: config.webhooks.pollInterval,
    timeoutMs: config.webhooks.timeout,
    ...(metrics ? { metrics: metrics.recorder } : {}),
    ...(log ? { log } : {}),
  });
}

function deliveryService(
  config: RelaygateConfig,
  stores: Stores,
  snapshots: SnapshotCache,
  settings: TenantSettingsCache,
  srsSecret: string,
  log: LogFn | undefined,
  metrics: ServedMetrics | null,
): DeliveryService {
  return new DeliveryService({
    queue: stores.queue,
    nodeId: config.nodeId,
    leaseMs: config.delivery.leaseTime,
    pollIntervalMs: config.delivery.pollInterval,
    bodies: stores.bodies,
    settings,
    srsSecret,
    hostname: config.hostname,
    delivery: config.delivery,
    throttle: config.delivery.limits,
    destinationBudget: stores.destinationBudget,
    senderDomainAccepted: acceptedDomainCheck(snapshots),
    srsMinted: stores.srsMinted,
    ...(config.delivery.srsDomain ? { srsDomain: config.delivery.srsDomain } : {}),
    ...(log ? { log: (level, message) => log(level, message), onTraced: traceLogger(log) } : {}),
    ...(metrics ? { metrics: metrics.recorder } : {}),
  });
}

/**
 * Bounces to SRS addresses: delivery verifies the HMAC and age, the minted-address store says
 * whether (and how often more) it may return.
 */
function frontEndHooks(delivery: DeliveryService, stores: Stores, log: LogFn | undefined): NonNullable<RelayParts['delivery']> {
  return {
    srsReturns: new SrsReturnFacts({
      reverse: (address) => delivery.reverseSrs(address),
      minted: stores.srsMinted,
      recordAgeMs: delivery.srsRecordAgeMs,
      ...(log ? { log: (message: string) => log('warn', message) } : {}),
    }),
    onAccepted: () => delivery.kick(),
  };
}

/** The daily quota counts the recipients a tenant sends (relay and internal), not mail it receives. */
function quotaCheck(quota: RecipientQuota): NonNullable<RelayParts['admitRecipient']> {
  return async (r: RecipientDecision) => {
    if (r.directionality !== 'Originating' || r.tenant === null || r.tenantId === null) return null;
    const admitted = await quota.admit({ id: r.tenantId, name: r.tenant });
    return admitted.ok ? null : { reply: admitted.reply, reason: admitted.reason };
  };
}
