/**
 * The delivery loop (rules: states.ts). Each pass: queue owed DSNs, lease due recipients, ask the
 * resolver for each recipient's next hop, group them by hop, hand each group to the courier with
 * bounded concurrency, record every recipient's outcome (retry schedule, expiry, DSN owed), queue
 * the DSNs those outcomes made owed, and remove finished messages with their bodies.
 * The resolver and the courier are injected (core/courier.ts): the scheduler knows nothing of DNS
 * or SMTP. Time comes from the injected Clock; `runOnce()` is one pass (tests drive it with a ManualClock).
 */
import type { Clock } from '../core/clock.js';
import type { Courier, NextHop, NextHopResolver } from '../core/courier.js';
import { formatFailure, type DeliveryFailure, type Job, type RecipientResult } from '../core/envelope.js';
import { formatReply } from '../core/reply.js';
import { failureDsnStatus, type DsnGenerator } from './dsn-generator.js';
import { outcomeEvents } from './delivery-trace.js';
import type { TraceEvent } from '../trace/events.js';
import { DestinationShares, type DestinationLimits } from './destination-shares.js';
import { expiryFailure, nextAttempt, type RetryPolicies } from './retry-schedule.js';
import type { BodyStore, ClaimedRecipient, ClaimedWork, DeliveryQueue, LeaseToken, RecipientOutcome } from '../store/ports.js';
import type { DeliveryClass, DeliveryMetrics } from '../core/metrics-recorder.js';

export interface SchedulerDeps<H extends NextHop = NextHop> {
  queue: DeliveryQueue;
  clock: Clock;
  /** The lease owner: this node's id (config `nodeId`), the same across its restarts. */
  owner: string;
  resolver: NextHopResolver<H>;
  courier: Courier<H>;
  policies: RetryPolicies;
  dsn: DsnGenerator;
  /** Where message bodies are; a finished message's body is removed after its rows. */
  bodies: BodyStore;
  /** How long a claim holds (DEFAULT_LEASE_MS); a pass renews its leases every third of it while it runs. */
  leaseMs?: number;
  batchSize?: number;
  /** Groups (next hops) delivered at the same time. */
  concurrency?: number;
  /** A big group is split over up to this many parallel connections (the throttle still caps them). */
  connectionsPerDestination?: number;
  /**
   * Each destination's concurrency and rate for all nodes on the store together: the pass takes
   * this node's share before it connects (destination-shares.ts). Without it, only this process's
   * own throttle limits a destination.
   */
  destinations?: DestinationLimits;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Told every attempt's outcome and every outcome a lost lease kept from being recorded. */
  metrics?: DeliveryMetrics;
  /** Told the trace events of the outcomes just recorded (serve logs them). */
  onTraced?: (events: readonly TraceEvent[]) => void;
}

export interface PassSummary {
  claimed: number;
  delivered: number;
  deferred: number;
  failed: number;
  expired: number;
  throttled: number;
  dsns: number;
  removed: number;
  /** Outcomes refused because their lease had passed to another claim: never applied (the counts above include them). */
  refused: number;
  /** The pass claimed a full batch: more may be due now, so the next pass should not wait. */
  more: boolean;
}

interface Group<H extends NextHop> {
  hop: H;
  /** By message id: one job per message and hop. */
  jobs: Map<string, Job & { recipients: ClaimedRecipient[] }>;
}

/** How many messages a connection to one destination carries before a parallel one is opened. */
const MESSAGES_PER_CONNECTION = 5;
/**
 * How long a claim holds unless configured (`delivery.leaseTime`): what a node that dies costs its
 * recipients in delay before another node claims them. A working node renews every third of it.
 */
export const DEFAULT_LEASE_MS = 90_000;

/** How often a pass renews its leases: a third of the lease, so two renewals may fail before one runs out. */
export function renewalInterval(leaseMs: number): number {
  return Math.max(10, Math.floor(leaseMs / 3));
}

export class Scheduler<H extends NextHop = NextHop> {
  private running: Promise<PassSummary> | null = null;
  /** The leases the pass in progress holds and has not recorded yet: recipient id → generation. */
  private readonly held = new Map<number, number>();
  /** Outcomes refused since start because their lease had passed to another claim. */
  refusedOutcomes = 0;
  private readonly shares: DestinationShares;

  constructor(private readonly deps: SchedulerDeps<H>) {
    this.shares = new DestinationShares(deps.destinations, deps.owner, deps.clock, deps.log);
  }

  /** One pass; concurrent calls share the pass in progress. */
  runOnce(): Promise<PassSummary> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Resolves when the pass in progress (if any) has finished. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<PassSummary> {
    const renewal = this.renewWhilePassing();
    try {
      return await this.deliverDue();
    } finally {
      await renewal.stop();
    }
  }

  /**
   * Keeps this node's leases alive while the pass runs, so a slow destination never lets another
   * node claim what this one is still sending; a node that dies stops renewing and its leases run out.
   */
  private renewWhilePassing(): { stop(): Promise<void> } {
    const d = this.deps;
    const leaseMs = d.leaseMs ?? DEFAULT_LEASE_MS;
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing.then(() =>
        Promise.all([
          d.queue.renewLeases(d.owner, this.heldLeases(), d.clock.now().getTime(), leaseMs),
          this.shares.renew(d.clock.now().getTime(), leaseMs),
        ]).then(
          () => undefined,
          (err: unknown) => d.log?.('warn', `leases not renewed: ${err instanceof Error ? err.message : String(err)}`),
        ),
      );
    }, renewalInterval(leaseMs));
    return {
      stop: async () => {
        clearInterval(timer);
        await renewing;
      },
    };
  }

  private heldLeases(): LeaseToken[] {
    return [...this.held].map(([id, generation]) => ({ id, generation }));
  }

  private async deliverDue(): Promise<PassSummary> {
    const d = this.deps;
    const summary: PassSummary = { claimed: 0, delivered: 0, deferred: 0, failed: 0, expired: 0, throttled: 0, dsns: 0, removed: 0, refused: 0, more: false };
    summary.dsns += await d.dsn.run();
    const now = d.clock.now().getTime();
    const batchSize = d.batchSize ?? 500;
    const works = await d.queue.claimDue(d.owner, now, d.leaseMs ?? DEFAULT_LEASE_MS, batchSize);
    this.held.clear();
    for (const w of works) for (const r of w.recipients) this.held.set(r.id, r.generation);
    summary.claimed = works.reduce((n, w) => n + w.recipients.length, 0);
    summary.more = summary.claimed >= batchSize;
    if (works.length > 0) {
      const unroutable: RecipientOutcome[] = [];
      const groups = await this.group(works, unroutable);
      await this.record(unroutable, summary);
      await this.deliverGroups([...groups.values()], works, summary);
      summary.dsns += await d.dsn.run();
    }
    summary.removed = await this.removeCompleted();
    return summary;
  }

  /** Sorts the claimed recipients into next-hop groups; those with nowhere to go fail at once. */
  private async group(works: ClaimedWork[], outcomes: RecipientOutcome[]): Promise<Map<string, Group<H>>> {
    const d = this.deps;
    const groups = new Map<string, Group<H>>();
    const hops = new Map<string, { hop: H } | { failure: DeliveryFailure }>();
    for (const work of works) {
      for (const r of work.recipients) {
        const hopKey = `${work.message.tenantId ?? ''}\u0000${r.domain}`;
        let resolved = hops.get(hopKey);
        if (!resolved) {
          resolved = await d.resolver.resolve(work.message.tenantId, r.domain);
          hops.set(hopKey, resolved);
        }
        if ('failure' in resolved) {
          outcomes.push(this.outcome(work, r, { kind: 'failed', failure: resolved.failure, host: null }, r.domain));
          continue;
        }
        const group = groups.get(resolved.hop.key) ?? { hop: resolved.hop, jobs: new Map() };
        groups.set(resolved.hop.key, group);
        // Relayed and other recipients of one message go in separate transactions: only the
        // relayed ones may carry an SRS-rewritten sender.
        const jobKey = `${work.message.id}\u0000${r.relayed ? 'relayed' : 'other'}`;
        const job = group.jobs.get(jobKey) ?? { message: work.message, recipients: [] };
        job.recipients.push(r);
        group.jobs.set(jobKey, job);
      }
    }
    return groups;
  }

  /**
   * Writes outcomes as soon as they are known (queue rule 4): after each SMTP transaction, so a
   * crash later in the pass never makes a delivered recipient due again. Each names the lease it
   * was claimed under; the store refuses those whose lease has passed to another claim, which are
   * counted and logged, never applied.
   */
  private async record(outcomes: RecipientOutcome[], summary: PassSummary): Promise<void> {
    if (outcomes.length === 0) return;
    const d = this.deps;
    const applied = await d.queue.record(d.owner, outcomes, d.clock.now().getTime());
    for (const o of outcomes) this.held.delete(o.id);
    // Which outcomes a lost lease kept out is not known here: their lines would tell what may not have happened.
    if (applied === outcomes.length) d.onTraced?.(outcomes.flatMap((o) => o.events ?? []));
    if (applied < outcomes.length) {
      const refused = outcomes.length - applied;
      summary.refused += refused;
      this.refusedOutcomes += refused;
      d.metrics?.leasesLost(refused);
      d.log?.('warn', `${refused} outcomes not recorded: their lease had passed to another scheduler (recipients ${outcomes.map((o) => o.id).join(', ')} of this write)`);
    }
    for (const o of outcomes) {
      if (o.state === 'delivered') summary.delivered++;
      else if (o.state === 'deferred') summary.deferred++;
      else if (o.state === 'failed') summary.failed++;
      else if (o.state === 'expired') summary.expired++;
      else summary.throttled++;
    }
  }

  private async deliverGroups(groups: Group<H>[], works: ClaimedWork[], summary: PassSummary): Promise<void> {
    const byMessage = new Map(works.map((w) => [w.message.id, w]));
    const claimed = new Map(works.flatMap((w) => w.recipients.map((r) => [r.id, r] as const)));
    const limit = Math.max(1, this.deps.concurrency ?? 20);
    const perDestination = Math.max(1, this.deps.connectionsPerDestination ?? 2);
    // A connection carries several messages before another is opened (reuse saves handshakes);
    // how many a group gets at once is this node's share of its destination.
    const shares = await this.shares.take(
      groups.map((g) => ({ destination: g.hop.destination, connections: Math.min(perDestination, Math.ceil(g.jobs.size / MESSAGES_PER_CONNECTION)), jobs: [...g.jobs.values()] })),
      this.deps.leaseMs ?? DEFAULT_LEASE_MS,
    );
    await this.record(
      shares.flatMap(({ refused }) =>
        (refused?.jobs ?? []).flatMap((job) => job.recipients.map((r) => this.outcome(byMessage.get(job.message.id)!, claimed.get(r.id)!, { kind: 'throttled', retryAt: refused!.retryAt, text: refused!.text }, '')))),
      summary,
    );
    // Each task is one connection's share of a group: big groups are split, round robin.
    const tasks: Array<{ hop: H; jobs: Job[] }> = [];
    shares.forEach(({ connections: parts, jobs }, g) => {
      for (let p = 0; p < parts; p++) tasks.push({ hop: groups[g]!.hop, jobs: jobs.filter((_, i) => i % parts === p) });
    });
    // A destination's slots go back when its last connection is done.
    const open = new Map<string, number>();
    for (const t of tasks) open.set(t.hop.destination, (open.get(t.hop.destination) ?? 0) + 1);
    const done = async (destination: string): Promise<void> => {
      const left = (open.get(destination) ?? 1) - 1;
      open.set(destination, left);
      if (left === 0) await this.shares.release(destination);
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tasks.length) {
        const task = tasks[next++]!;
        const recorded = new Set<number>();
        const outcomesOf = (job: Job, results: ReadonlyMap<number, RecipientResult>, final: boolean): RecipientOutcome[] => {
          const work = byMessage.get(job.message.id)!;
          const out: RecipientOutcome[] = [];
          for (const ref of job.recipients) {
            const result = results.get(ref.id);
            if (recorded.has(ref.id) || (!result && !final)) continue;
            recorded.add(ref.id);
            out.push(result ? this.outcome(work, claimed.get(ref.id)!, result, task.hop.destination) : this.unanswered(claimed.get(ref.id)!, task.hop));
          }
          return out;
        };
        const results = await this.deps.courier.deliver(task.hop, task.jobs, (job, sofar) => this.record(outcomesOf(job, sofar, false), summary));
        // What no transaction settled: throttled, deferred to the next host, or never tried.
        await this.record(task.jobs.flatMap((job) => outcomesOf(job, results, true)), summary);
        await done(task.hop.destination);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    } finally {
      await this.shares.releaseAll();
    }
  }

  /**
   * A recipient the courier gave no result for (a courier bug): due again soon without counting
   * an attempt or inventing a reply, so the mail is neither lost nor bounced.
   */
  private unanswered({ id, generation }: ClaimedRecipient, hop: H): RecipientOutcome {
    this.deps.log?.('warn', `delivery to ${hop.destination} gave no result for recipient ${id}; it is due again`);
    return { id, generation, state: 'queued', reply: null, remoteMta: null, nextAttemptAt: this.deps.clock.now().getTime() + 1_000, attempted: false };
  }

  private outcome(work: ClaimedWork, r: ClaimedRecipient, result: RecipientResult, nextHop: string): RecipientOutcome {
    const decided = this.nextState(work, r, result);
    const next: RecipientOutcome = { ...decided, events: outcomeEvents(this.deps.clock.now().getTime(), work, r, result, decided, nextHop) };
    if (this.deps.metrics && next.state !== 'queued' && result.kind !== 'throttled') {
      const delivered = next.state === 'delivered';
      const seconds = delivered ? Math.max(0, (this.deps.clock.now().getTime() - work.message.receivedAt) / 1000) : null;
      this.deps.metrics.delivery({ outcome: next.state, class: deliveryClass(result), tenant: work.message.tenant, endToEndSeconds: seconds });
    }
    return next;
  }

  /** The one mapping from an attempt's result to a recipient's next state. */
  private nextState(work: ClaimedWork, r: ClaimedRecipient, result: RecipientResult): RecipientOutcome {
    const now = this.deps.clock.now().getTime();
    const lease = { id: r.id, generation: r.generation };
    if (result.kind === 'delivered') {
      return { ...lease, state: 'delivered', reply: `${formatReply(result.reply)}`, remoteMta: result.host, attempted: true };
    }
    if (result.kind === 'throttled') {
      return { ...lease, state: 'queued', reply: `throttled: ${result.text}`, remoteMta: null, nextAttemptAt: Math.max(result.retryAt, now + 1_000), attempted: false };
    }
    const reply = formatFailure(result.failure);
    if (result.failure.permanent) {
      return { ...lease, state: 'failed', reply, remoteMta: result.host, attempted: true, dsnStatus: failureDsnStatus(work.message, r.notify) };
    }
    const policy = this.deps.policies.for(work.message.tenant);
    const next = nextAttempt(policy, work.message.receivedAt, r.attempts + 1, now);
    if (next === null) {
      const expired = expiryFailure(policy, reply);
      // Our own verdict (it quotes the remote's last reply): no Remote-MTA.
      return { ...lease, state: 'expired', reply: formatFailure(expired), remoteMta: null, attempted: true, dsnStatus: failureDsnStatus(work.message, r.notify) };
    }
    return { ...lease, state: 'deferred', reply, remoteMta: result.host, nextAttemptAt: next, attempted: true };
  }

  private async removeCompleted(): Promise<number> {
    let removed = 0;
    for (let round = 0; round < 20; round++) {
      const done = await this.deps.queue.completedMessages(500);
      if (done.length === 0) break;
      // Rows first, in one commit: a crash between the two leaves only orphan bodies, which the
      // start-up sweep removes; never a row whose body is gone.
      await this.deps.queue.deleteMessages(done);
      await this.deps.bodies.delete(done).catch((err: unknown) => this.deps.log?.('warn', `bodies of finished messages not removed: ${err instanceof Error ? err.message : String(err)}`));
      removed += done.length;
    }
    return removed;
  }
}

/** 2xx for a delivery; a failure by its scope (connection) or its reply's class. */
function deliveryClass(result: Exclude<RecipientResult, { kind: 'throttled' }>): DeliveryClass {
  if (result.kind === 'delivered') return '2xx';
  if (result.failure.scope === 'connection') return 'connection';
  return result.failure.reply.code >= 500 ? '5xx' : '4xx';
}
