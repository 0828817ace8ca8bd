/**
 * The Prometheus registry of one relaygate process and the recorder (core/metrics-recorder.ts)
 * that the SMTP front end, the queue and delivery call. Every metric relaygate exports is defined
 * here and listed in docs/metrics.md; gauges of things that exist outside this process (the queue,
 * connector health's certificates, the server certificate, open connections) are read when
 * Prometheus scrapes.
 */
import { refusedOnlyByRuleChange } from '../policy/rule-set.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsRecorder, ObservedDecision, ObservedDelivery } from '../core/metrics-recorder.js';
import { recipientStates, type QueueStatsStore } from '../store/ports.js';
import { OTHER_TENANTS, TenantLabels } from './tenant-labels.js';

export interface MetricsOptions {
  /** Tenants that get a `tenant` label of their own; the others are `other` (metrics.tenantLabelLimit). */
  tenantLabelLimit: number;
  /** The queue, read at scrape time (at most every `queueStatsMaxAgeMs`). */
  queueStats?: QueueStatsStore;
  queueStatsMaxAgeMs?: number;
  /** The client certificate each connector saw last (connector health), read at scrape time like the queue. */
  certificates?: CertificateExpirySource;
  /** Node's process metrics (process_*, nodejs_*), on by default. */
  processMetrics?: boolean;
  now?: () => number;
}

/** Connector health's answer (health/health-service.ts `certificateExpiries`), structurally. */
export interface CertificateExpirySource {
  certificateExpiries(): Promise<ReadonlyArray<{ tenant: string; connector: string; /** Epoch seconds. */ notAfter: number }>>;
}

/** What only the running server knows, read at scrape time; set once it runs. */
export interface ScrapeSources {
  openConnections(): number;
  /** notAfter of the certificate the listeners present, null without TLS. */
  serverCertificateNotAfter(): Date | null;
}

export interface Metrics {
  registry: Registry;
  recorder: MetricsRecorder;
  /** Connects the gauges that read the running server. */
  watch(sources: Partial<ScrapeSources>): void;
}

/** Accept latency: milliseconds (group commit) to seconds (a slow disk). */
const ACCEPT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Accept to delivered: seconds (straight through) to the two-day tail of retries. */
const END_TO_END_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800];

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const tenants = new TenantLabels(options.tenantLabelLimit);
  const now = options.now ?? Date.now;
  const sources: Partial<ScrapeSources> = {};
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const connections = new Counter({
    name: 'relaygate_smtp_connections_total',
    help: 'SMTP connections by listener and outcome (accepted, or refused before the session: connection limits, a bad PROXY header).',
    labelNames: ['listener', 'outcome'] as const,
    registers,
  });
  new Gauge({
    name: 'relaygate_smtp_connections_open',
    help: 'SMTP connections open now, all listeners.',
    registers,
    collect() {
      this.set(sources.openConnections?.() ?? 0);
    },
  });
  const transactions = new Counter({
    name: 'relaygate_smtp_transactions_total',
    help: 'Mail transactions by listener and how they ended: accepted, refused, deferred (4xx after DATA), abandoned (accepted recipients, no message).',
    labelNames: ['listener', 'outcome'] as const,
    registers,
  });
  const decisions = new Counter({
    name: 'relaygate_policy_decisions_total',
    help: 'Final policy decisions per recipient (and MAIL FROM refusals, rule "mail-from") by verdict, rule, rule set in force and tenant.',
    labelNames: ['verdict', 'rule', 'rule_set', 'tenant'] as const,
    registers,
  });
  const legacyOnly = new Counter({
    name: 'relaygate_policy_legacy_only_total',
    help: 'Recipients the 2023-11 rules refuse and the legacy rules do not, by the rule set in force (legacy: relayed; 2023-11: refused) and tenant.',
    labelNames: ['rule_set', 'tenant'] as const,
    registers,
  });
  const acceptDuration = new Histogram({
    name: 'relaygate_smtp_accept_duration_seconds',
    help: 'From the end of DATA to the message being durable and answered 250.',
    buckets: ACCEPT_BUCKETS,
    registers,
  });
  const deliveries = new Counter({
    name: 'relaygate_delivery_outcomes_total',
    help: 'Delivery attempts per recipient by outcome (delivered, deferred, failed, expired), class (2xx, 4xx, 5xx, connection) and tenant.',
    labelNames: ['outcome', 'class', 'tenant'] as const,
    registers,
  });
  const endToEnd = new Histogram({
    name: 'relaygate_delivery_end_to_end_seconds',
    help: 'From acceptance (the 250) to delivery, per delivered recipient.',
    buckets: END_TO_END_BUCKETS,
    registers,
  });
  const leasesLost = new Counter({
    name: 'relaygate_delivery_leases_lost_total',
    help: 'Outcomes this node could not record because its lease had run out and another claim took the recipient.',
    registers,
  });
  const webhookBacklog = new Gauge({
    name: 'relaygate_webhook_backlog',
    help: 'Webhook events written to the outbox and not yet delivered (0 until the webhook worker runs).',
    registers,
  });
  new Gauge({
    name: 'relaygate_server_certificate_expiry_timestamp_seconds',
    help: 'notAfter (Unix seconds) of the certificate the SMTP listeners present (tls.cert); 0 without one.',
    registers,
    collect() {
      const notAfter = sources.serverCertificateNotAfter?.() ?? null;
      this.set(notAfter ? notAfter.getTime() / 1000 : 0);
    },
  });

  queueGauges(registers, options, now);
  certificateGauge(registers, options, tenants, now);

  const recorder: MetricsRecorder = {
    connection: (listener, outcome) => connections.inc({ listener, outcome }),
    transaction: (listener, outcome) => transactions.inc({ listener, outcome }),
    decision: (d: ObservedDecision) => {
      const tenant = tenants.label(d.tenant);
      decisions.inc({ verdict: d.verdict, rule: d.rule, rule_set: d.ruleSet, tenant });
      if (refusedOnlyByRuleChange(d.currentVerdict, d.legacyVerdict)) legacyOnly.inc({ rule_set: d.ruleSet, tenant });
    },
    accepted: (seconds) => acceptDuration.observe(seconds),
    delivery: (o: ObservedDelivery) => {
      deliveries.inc({ outcome: o.outcome, class: o.class, tenant: tenants.label(o.tenant) });
      if (o.endToEndSeconds !== null) endToEnd.observe(o.endToEndSeconds);
    },
    leasesLost: (count) => leasesLost.inc(count),
    webhookBacklog: (events) => webhookBacklog.set(events),
  };
  return { registry, recorder, watch: (s) => Object.assign(sources, s) };
}

/**
 * The queue gauges, all from one QueueStats reading per scrape (or per `queueStatsMaxAgeMs`). A
 * reading that fails is counted and the last good one shown: a store outage never fails the scrape.
 */
function queueGauges(registers: Registry[], options: MetricsOptions, now: () => number): void {
  const store = options.queueStats;
  if (!store) return;
  const maxAge = options.queueStatsMaxAgeMs ?? 5_000;
  const failures = new Counter({
    name: 'relaygate_queue_stats_failures_total',
    help: 'Scrapes whose reading of the queue failed (the queue gauges then show the last good reading).',
    registers,
    // This scrape's reading first, so its failure is in this scrape's count.
    async collect() {
      await read();
    },
  });
  const read = cachedReading((t) => store.stats(t), maxAge, now, failures);
  new Gauge({
    name: 'relaygate_queue_recipients',
    help: 'Recipients in the queue (all nodes sharing it) by state.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const stats = await read();
      for (const state of recipientStates) this.set({ state }, stats?.recipients[state] ?? 0);
    },
  });
  new Gauge({
    name: 'relaygate_queue_oldest_age_seconds',
    help: 'Age of the oldest message with a recipient waiting for delivery (queued, deferred, in flight); 0 when none waits.',
    registers,
    async collect() {
      const oldest = (await read())?.oldestWaitingReceivedAt ?? null;
      this.set(oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });
  new Gauge({
    name: 'relaygate_queue_expired_leases',
    help: 'In-flight recipients whose lease has run out (their node died or stalled); the next claim takes them over.',
    registers,
    async collect() {
      this.set((await read())?.expiredLeases ?? 0);
    },
  });
}

/** A reading taken at most once per `maxAge`; a failed one is counted and the last good one used. */
function cachedReading<T>(read: (at: number) => Promise<T>, maxAge: number, now: () => number, failures: Counter): () => Promise<T | null> {
  let last: { at: number; value: Promise<T | null> } | null = null;
  let good: T | null = null;
  return () => {
    const t = now();
    if (!last || t - last.at >= maxAge) {
      const value = read(t).then(
        (v) => (good = v),
        () => {
          failures.inc();
          // Not kept: the next scrape asks again.
          last = null;
          return good;
        },
      );
      last = { at: t, value };
    }
    return last.value;
  };
}

/**
 * The connectors' certificates from connector health. Tenants past the label limit share one
 * series, tenant="other" connector="other", holding the soonest expiry among them.
 */
function certificateGauge(registers: Registry[], options: MetricsOptions, tenants: TenantLabels, now: () => number): void {
  const source = options.certificates;
  if (!source) return;
  const failures = new Counter({
    name: 'relaygate_connector_certificates_read_failures_total',
    help: 'Scrapes whose reading of connector health failed (the certificate gauge then shows the last good reading).',
    registers,
    async collect() {
      await read();
    },
  });
  const read = cachedReading(() => source.certificateExpiries(), options.queueStatsMaxAgeMs ?? 5_000, now, failures);
  new Gauge({
    name: 'relaygate_connector_certificate_expiry_timestamp_seconds',
    help: 'notAfter (Unix seconds) of the client certificate each connector saw last (connector health, all nodes), by tenant and connector.',
    labelNames: ['tenant', 'connector'] as const,
    registers,
    async collect() {
      const expiries = await read();
      this.reset();
      const soonest = new Map<string, number>();
      for (const e of expiries ?? []) {
        const tenant = tenants.label(e.tenant);
        const key = JSON.stringify([tenant, tenant === OTHER_TENANTS ? OTHER_TENANTS : e.connector]);
        soonest.set(key, Math.min(soonest.get(key) ?? Infinity, e.notAfter));
      }
      for (const [key, notAfter] of soonest) {
        const [tenant, connector] = JSON.parse(key) as [string, string];
        this.set({ tenant, connector }, notAfter);
      }
    },
  });
}
