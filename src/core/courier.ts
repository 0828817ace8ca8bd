/**
 * The seam between the queue and delivery, below both (chasquid's courier.Courier held by its
 * queue; Postfix's queue manager and delivery agents meeting only in deliver_request.h). The
 * scheduler is given a resolver and a courier and knows nothing of DNS, routes, DKIM, SRS or SMTP;
 * delivery implements both and knows nothing of leases, retries, expiry or DSNs.
 */
import type { DeliveryFailure, Job, RecipientResult } from './envelope.js';

/** Where a recipient's mail goes next. Recipients whose hops share `key` travel together. */
export interface NextHop {
  readonly key: string;
  /** The name throttles and logs use: a route's host or the recipient domain. */
  readonly destination: string;
}

export interface NextHopResolver<H extends NextHop = NextHop> {
  /** The next hop for mail of the tenant (by id) to `domain`, or the classified reason there is none. */
  resolve(tenantId: string | null, domain: string): Promise<{ hop: H } | { failure: DeliveryFailure }>;
}

/** Told the results known so far after each SMTP transaction, so they can be recorded at once. */
export type OnTransaction = (job: Job, results: ReadonlyMap<number, RecipientResult>) => Promise<void>;

export interface Courier<H extends NextHop = NextHop> {
  /**
   * Delivers one hop's jobs and answers for each of their recipients, keyed by `RecipientRef.id`.
   * Delivery failures are results, not exceptions; a throw means a bug, and leaves the jobs' leases
   * to run out.
   */
  deliver(hop: H, jobs: readonly Job[], onTransaction?: OnTransaction): Promise<ReadonlyMap<number, RecipientResult>>;
}
