/**
 * This node's share of each destination's budget for one pass (store/ports DestinationBudget):
 * before connecting, the scheduler asks for the connections each next hop could use; the node gets
 * what the cluster-wide concurrency leaves beside the live shares of other nodes, and as many of
 * the messages as the destination's per-minute count leaves in the current window. The shares are
 * renewed with the queue leases and given back as soon as the node is done with the destination.
 * What gets no connection or no room in the window is refused with the limit's text, to wait (the
 * scheduler records it as throttled: no attempt is used up).
 */
import type { Clock } from '../core/clock.js';
import type { DestinationBudget } from '../store/ports.js';

export interface DestinationLimits {
  /** Where every node on the store takes its share. */
  budget: DestinationBudget;
  /** Connections open to one destination at once, from all nodes together. */
  concurrency: number;
  /** Messages to one destination per minute (a fixed window on the clock), from all nodes together; 0: unlimited. */
  perMinute: number;
}

/** One next hop's request: the destination, how many connections it could use, its jobs (one message transaction each). */
export interface ShareRequest<T> {
  destination: string;
  connections: number;
  jobs: readonly T[];
}

/** What the request got: connections and the jobs they may carry; the rest refused, with why and from when to try again. */
export interface Share<T> {
  connections: number;
  jobs: readonly T[];
  refused: { jobs: readonly T[]; retryAt: number; text: string } | null;
}

const WINDOW = 60_000;

export class DestinationShares {
  /** Destinations this node holds slots of now. */
  private readonly held = new Set<string>();

  constructor(
    private readonly limits: DestinationLimits | undefined,
    private readonly owner: string,
    private readonly clock: Clock,
    private readonly log?: (level: 'warn', message: string) => void,
  ) {}

  /** Takes the shares for the requests (those of one destination in their order); without limits, everything is granted. */
  async take<T>(requests: ReadonlyArray<ShareRequest<T>>, leaseMs: number): Promise<Array<Share<T>>> {
    const shares: Array<Share<T>> = requests.map((r) => ({ connections: r.connections, jobs: r.jobs, refused: null }));
    if (!this.limits) return shares;
    const byDestination = new Map<string, number[]>();
    requests.forEach((r, i) => byDestination.set(r.destination, [...(byDestination.get(r.destination) ?? []), i]));
    for (const [destination, indexes] of byDestination) await this.takeOne(this.limits, destination, indexes, requests, shares, leaseMs);
    return shares;
  }

  private async takeOne<T>(
    limits: DestinationLimits,
    destination: string,
    indexes: readonly number[],
    requests: ReadonlyArray<ShareRequest<T>>,
    shares: Array<Share<T>>,
    leaseMs: number,
  ): Promise<void> {
    const now = this.clock.now().getTime();
    const refuse = (i: number, jobs: readonly T[], retryAt: number, text: string): void => {
      if (jobs.length > 0) shares[i] = { ...shares[i]!, refused: { jobs, retryAt, text } };
    };
    const wanted = indexes.reduce((n, i) => n + requests[i]!.connections, 0);
    let slots: number;
    try {
      slots = await limits.budget.acquireSlots(this.owner, destination, wanted, limits.concurrency, now, now + leaseMs);
    } catch (err) {
      this.log?.('warn', `connection slots to ${destination} not taken: ${err instanceof Error ? err.message : String(err)}`);
      for (const i of indexes) shares[i] = { connections: 0, jobs: [], refused: { jobs: requests[i]!.jobs, retryAt: now, text: `budget of ${destination} not available` } };
      return;
    }
    if (slots > 0) this.held.add(destination);
    let left = slots;
    for (const i of indexes) {
      const connections = Math.min(requests[i]!.connections, left);
      left -= connections;
      shares[i] = { connections, jobs: connections > 0 ? requests[i]!.jobs : [], refused: null };
      if (connections === 0) refuse(i, requests[i]!.jobs, now, `limit of ${limits.concurrency} concurrent connections to ${destination} reached`);
    }
    if (limits.perMinute > 0 && slots > 0) {
      const windowStart = now - (now % WINDOW);
      const served = indexes.filter((i) => shares[i]!.connections > 0);
      let room: number;
      let why = `rate limit of ${limits.perMinute} messages per minute to ${destination} reached`;
      let retryAt = windowStart + WINDOW;
      try {
        room = await limits.budget.countMessages(destination, windowStart, served.reduce((n, i) => n + shares[i]!.jobs.length, 0), limits.perMinute);
      } catch (err) {
        this.log?.('warn', `messages to ${destination} not counted: ${err instanceof Error ? err.message : String(err)}`);
        [room, why, retryAt] = [0, `budget of ${destination} not available`, now];
      }
      for (const i of served) {
        const all = shares[i]!.jobs;
        const jobs = all.slice(0, room);
        room -= jobs.length;
        shares[i] = { connections: Math.min(shares[i]!.connections, jobs.length), jobs, refused: null };
        refuse(i, all.slice(jobs.length), retryAt, why);
      }
      const used = indexes.reduce((n, i) => n + shares[i]!.connections, 0);
      // Slots the window leaves no message for go back at once.
      if (used === 0) await this.release(destination);
      else if (used < slots) await this.resize(limits, destination, used, now, leaseMs);
    }
  }

  private async resize(limits: DestinationLimits, destination: string, slots: number, now: number, leaseMs: number): Promise<void> {
    await limits.budget.acquireSlots(this.owner, destination, slots, limits.concurrency, now, now + leaseMs).catch(() => undefined);
  }

  /** Gives back this node's slots to the destination: it has no connection open there any more. */
  async release(destination: string): Promise<void> {
    if (!this.limits || !this.held.delete(destination)) return;
    await this.limits.budget.releaseSlots(this.owner, destination).catch((err: unknown) =>
      this.log?.('warn', `connection slots to ${destination} not given back (they run out with their lease): ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Gives back whatever is still held (the end of a pass). */
  async releaseAll(): Promise<void> {
    for (const destination of [...this.held]) await this.release(destination);
  }

  /** Extends the slots held, with the queue leases. */
  async renew(now: number, leaseMs: number): Promise<void> {
    if (this.limits && this.held.size > 0) await this.limits.budget.renewSlots(this.owner, now, now + leaseMs);
  }
}
