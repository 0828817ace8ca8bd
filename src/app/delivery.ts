/**
 * Composition of delivery for `relaygate serve` (app/server.ts builds it): the queue's delivery
 * port and the per-tenant settings, delivery's resolver and courier injected into the queue's
 * scheduler, the DSN generator; then a pass every `pollIntervalMs` (and at once when `kick()` is
 * called, e.g. after a message was accepted) until `stop()`.
 *
 * Tenant settings (DKIM keys, routes, SRS) come from the settings snapshot, checked for changes
 * once at the start of every pass: a change applies from the next pass on, without a restart. They
 * are found by the tenant id the message was queued with, so a rename in between changes nothing.
 */
import type { TraceEvent } from '../trace/events.js';
import { systemClock, type Clock } from '../core/clock.js';
import { normalizeDomain } from '../core/domain.js';
import { SmtpCourier } from '../delivery/courier.js';
import { CachingDnsResolver } from '../delivery/dns/resolver.js';
import type { RandomSource } from '../delivery/dns/mx.js';
import { RoutingResolver } from '../delivery/next-hop-resolver.js';
import type { NextHopPlan, Route, TlsMode } from '../delivery/routing.js';
import { Srs, srsValidityMs } from '../delivery/srs.js';
import { reverseSrsAddress } from '../delivery/srs-return.js';
import { defaultThrottleLimits, Throttle, type ThrottleLimits } from '../delivery/throttle.js';
import type { DirectorySnapshot } from '../policy/index.js';
import { DsnGenerator } from '../queue/dsn-generator.js';
import { RetryPolicies, retryPolicy, type RetryPolicy } from '../queue/retry-schedule.js';
import { Scheduler, type PassSummary } from '../queue/scheduler.js';
import type { BodyStore, DeliveryQueue, DestinationBudget, SrsMintedStore } from '../store/ports.js';
import { TenantSettingsSnapshot } from '../store/tenant-settings-snapshot.js';
import type { DeliveryMetrics } from '../core/metrics-recorder.js';

/** The `delivery` section of relaygate.yaml, as the config module resolves it (durations in ms). */
export interface DeliveryConfig {
  retry: readonly number[];
  expireAfter: number;
  delayNotifyAfter: number;
  dns: { servers: readonly string[]; timeout: number };
  routes: ReadonlyArray<{ domains: readonly string[]; host: string; port: number; tls: string }>;
  /** Connect to loopback/unspecified/link-local addresses that MX/A/AAAA (or a literal) gave (default false). */
  allowLocalAddresses?: boolean;
}

/** The tenant settings as delivery reads them (a TenantSettingsCache). */
export interface TenantSettingsSource {
  /** The snapshot after checking the store for changes: called once per pass. */
  fresh(): Promise<TenantSettingsSnapshot>;
  /** The last snapshot, without waiting (for reverse SRS at RCPT time). */
  latest(): TenantSettingsSnapshot;
}

export interface DeliveryDeps {
  /** The queue's delivery side. */
  queue: DeliveryQueue;
  settings: TenantSettingsSource;
  /** The SRS HMAC key (ServerSecrets 'srs'): delivery signs with it, reverse SRS checks with it. */
  srsSecret: string;
  /** This node's id (config `nodeId`): the owner of its leases, the same across restarts. */
  nodeId: string;
  /** How long a claim holds; renewed while a pass runs (default DEFAULT_LEASE_MS, 90 s). */
  leaseMs?: number;
  /** Message bodies (read for delivery and DSNs, written for DSNs, removed with finished messages). */
  bodies: BodyStore;
  /** Our name: EHLO, Reporting-MTA of DSNs, default SRS rewrite domain. */
  hostname: string;
  delivery: DeliveryConfig;
  /** Whether a sender domain is an accepted domain of the tenant (by id; the policy engine answers). */
  senderDomainAccepted: (tenantId: string, domain: string) => Promise<boolean>;
  /** Where every SRS address delivery mints is recorded with its message (bounces are checked against it). */
  srsMinted: SrsMintedStore;
  clock?: Clock;
  random?: RandomSource;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Told the trace events of every outcome and DSN recorded (serve logs them). */
  onTraced?: (events: readonly TraceEvent[]) => void;
  throttle?: Partial<ThrottleLimits>;
  /**
   * Where the destinations' concurrency and per-minute rate are held for every node on the store
   * (the store's DestinationBudget). Without it they are this process's own, in its throttle.
   */
  destinationBudget?: DestinationBudget;
  tenantPolicies?: ReadonlyMap<string, Partial<RetryPolicy>>;
  pollIntervalMs?: number;
  /** Recipients claimed per pass (500). */
  batchSize?: number;
  /** MX delivery port (25); tests point it at a loopback receiver. */
  mxPort?: number;
  mxTls?: TlsMode;
  /** Extra CAs for `verify` routes. */
  ca?: string;
  socketTimeoutMs?: number;
  /** The SMTP client's wall-clock limits (smtp-client.ts ClientSettings); tests shorten them. */
  setupTimeoutMs?: number;
  transactionTimeoutMs?: number;
  /** SRS rewrite domain when a tenant names none (default: hostname). */
  srsDomain?: string;
  /** Delivery outcomes and lost leases for the metrics. */
  metrics?: DeliveryMetrics;
}

const tlsModes: readonly TlsMode[] = ['none', 'opportunistic', 'required', 'verify'];

/** The policy engine's accepted-domain answer for SRS, on the live directory snapshot. */
export function acceptedDomainCheck(source: { snapshot(): Promise<DirectorySnapshot> }): (tenantId: string, domain: string) => Promise<boolean> {
  return async (tenantId, domain) => {
    const snapshot = await source.snapshot();
    const tenant = snapshot.tenantById(tenantId);
    const d = normalizeDomain(domain);
    return tenant !== undefined && d !== null && snapshot.isAcceptedBy(d, tenant);
  };
}

export class DeliveryService {
  private readonly store: DeliveryQueue;
  private readonly scheduler: Scheduler<NextHopPlan>;
  /** The tenant settings of the pass in progress (or the last one). */
  private settings = TenantSettingsSnapshot.empty();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** A pass is running; a kick meanwhile asks for another one right after it. */
  private passing = false;
  private kickedDuringPass = false;
  private lastSrsPrune = 0;
  /** How long a minted SRS address stays recorded: as long as its HMAC timestamp can still verify. */
  readonly srsRecordAgeMs = srsValidityMs();
  private readonly clock: Clock;
  private readonly srs: Srs;

  constructor(private readonly deps: DeliveryDeps) {
    const clock = deps.clock ?? systemClock;
    this.clock = clock;
    this.store = deps.queue;
    const server = retryPolicy({ intervalsMs: deps.delivery.retry, expireAfterMs: deps.delivery.expireAfter, delayNoticeAfterMs: deps.delivery.delayNotifyAfter });
    const perTenant = new Map([...(deps.tenantPolicies ?? new Map<string, Partial<RetryPolicy>>())].map(([t, p]) => [t, retryPolicy({ ...server, ...p })]));
    const policies = new RetryPolicies(server, perTenant);
    const serverRoutes: Route[] = deps.delivery.routes.map((r) => ({
      domains: r.domains, host: r.host, port: r.port, tls: tlsModes.find((m) => m === r.tls) ?? 'opportunistic',
    }));
    const srsSecret = deps.srsSecret;
    this.srs = new Srs({ secrets: [srsSecret], rewriteDomain: deps.srsDomain ?? deps.hostname }, clock);
    const log = deps.log;
    const throttleLimits = { ...defaultThrottleLimits, ...deps.throttle };
    const budget = deps.destinationBudget;
    this.scheduler = new Scheduler<NextHopPlan>({
      // A busy destination gets as many parallel connections as its concurrency limit allows.
      connectionsPerDestination: throttleLimits.perDestinationConcurrency,
      ...(budget
        ? { destinations: { budget, concurrency: throttleLimits.perDestinationConcurrency, perMinute: throttleLimits.perDestinationPerMinute } }
        : {}),
      ...(deps.batchSize !== undefined ? { batchSize: deps.batchSize } : {}),
      queue: this.store,
      clock,
      owner: deps.nodeId,
      ...(deps.leaseMs !== undefined ? { leaseMs: deps.leaseMs } : {}),
      resolver: new RoutingResolver({
        serverRoutes,
        tenantRoutes: { routesFor: (tenantId) => this.settings.routesOf(tenantId) },
        dns: new CachingDnsResolver({ servers: deps.delivery.dns.servers, timeoutMs: deps.delivery.dns.timeout }, clock),
        random: deps.random ?? Math.random,
        ownNames: [deps.hostname],
        allowLocalAddresses: deps.delivery.allowLocalAddresses === true,
        ...(deps.mxPort !== undefined ? { mxPort: deps.mxPort } : {}),
        ...(deps.mxTls !== undefined ? { mxTls: deps.mxTls } : {}),
      }),
      courier: new SmtpCourier(
        {
            client: {
            heloName: deps.hostname,
            ...(deps.ca !== undefined ? { ca: deps.ca } : {}),
            ...(deps.socketTimeoutMs !== undefined ? { socketTimeoutMs: deps.socketTimeoutMs } : {}),
            ...(deps.setupTimeoutMs !== undefined ? { setupTimeoutMs: deps.setupTimeoutMs } : {}),
            ...(deps.transactionTimeoutMs !== undefined ? { transactionTimeoutMs: deps.transactionTimeoutMs } : {}),
          },
          // With the shared budget, a destination's rate is counted there, once for all nodes.
          throttle: new Throttle(budget ? { ...throttleLimits, perDestinationPerMinute: 0 } : throttleLimits, clock),
        },
        {
          bodies: deps.bodies,
          dkimKeys: { activeKey: (tenantId, domain) => this.settings.activeDkimKey(tenantId, domain) },
          clock,
          srs: {
            settingFor: (tenantId) => this.settings.srsOf(tenantId),
            senderDomainAccepted: deps.senderDomainAccepted,
            secrets: [srsSecret],
            defaultRewriteDomain: deps.srsDomain ?? deps.hostname,
            minted: deps.srsMinted,
          },
          keepsOurHeadersWhenRelayed: (tenantId) => this.settings.keepsRelayedHeaders(tenantId),
          ...(log ? { log: (m: string) => log('warn', m) } : {}),
        },
      ),
      policies,
      dsn: new DsnGenerator({
        queue: this.store, bodies: deps.bodies, clock, hostname: deps.hostname, policies,
        ...(log ? { log: (m: string) => log('warn', m) } : {}),
        ...(deps.onTraced ? { onTraced: deps.onTraced } : {}),
      }),
      bodies: deps.bodies,
      ...(log ? { log } : {}),
      ...(deps.onTraced ? { onTraced: deps.onTraced } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
  }

  /**
   * Makes due again what this node's previous run left in flight (its leases only: other nodes on
   * the same queue keep theirs), then runs passes until stop().
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    const released = await this.store.releaseLeases(this.deps.nodeId, this.clock.now().getTime());
    await this.deps.destinationBudget?.releaseSlots(this.deps.nodeId);
    if (released > 0) this.deps.log?.('info', `delivery: ${released} recipients node ${this.deps.nodeId} left in flight are due again`);
    await this.pruneSrsRecords();
    this.schedule(0);
  }

  /** Reverse SRS for a bounce coming back (the SMTP front end asks at RCPT TO). */
  reverseSrs(address: string): { address: string } | { error: string } | null {
    return reverseSrsAddress(this.srs, [this.deps.srsDomain ?? this.deps.hostname, ...this.deps.settings.latest().rewriteDomains()], address);
  }

  /** One pass now (tests call this with an injected clock instead of start()). */
  runOnce(): Promise<PassSummary> {
    return this.pass();
  }

  private async pass(): Promise<PassSummary> {
    this.settings = await this.deps.settings.fresh();
    return this.scheduler.runOnce();
  }

  /** Asks for a pass soon (after a message was accepted). */
  kick(): void {
    if (this.stopped) return;
    if (this.passing) this.kickedDuringPass = true;
    else this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.passing = true;
      this.kickedDuringPass = false;
      if (this.clock.now().getTime() - this.lastSrsPrune >= 3_600_000) void this.pruneSrsRecords();
      const poll = this.deps.pollIntervalMs ?? 5_000;
      // Straight on while work is waiting (a full batch, or mail accepted during the pass);
      // otherwise poll for retries coming due.
      this.pass().then(
        (summary) => {
          this.passing = false;
          this.schedule(summary.more || this.kickedDuringPass ? 0 : poll);
        },
        (err: unknown) => {
          this.passing = false;
          this.deps.log?.('error', `delivery pass failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          this.schedule(poll);
        },
      );
    }, delay);
  }

  /** Stops scheduling and waits for the pass in progress; true when there was one. */
  async stop(): Promise<boolean> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const wasPassing = this.passing;
    await this.scheduler.idle();
    return wasPassing;
  }

  /** Forgets SRS addresses too old to verify any more (at start, then hourly). */
  async pruneSrsRecords(): Promise<number> {
    const now = this.clock.now().getTime();
    this.lastSrsPrune = now;
    try {
      return await this.deps.srsMinted.prune(now - this.srsRecordAgeMs);
    } catch (err) {
      this.deps.log?.('warn', `old SRS records not pruned: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }
}
