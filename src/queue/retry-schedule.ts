/**
 * When to try again and when to give up. Defaults (architecture.md): retry after 1, 5, 15 and 30
 * minutes, then every hour; expire after 24 hours (Exchange Online's expiry); a "delayed" DSN after
 * 4 hours. Server-wide from relaygate.yaml `delivery`, overridable per tenant.
 */
import type { DeliveryFailure } from '../core/envelope.js';
import { Replies } from '../core/reply.js';

export interface RetryPolicy {
  /** Waits between attempts in ms; the last one repeats. */
  readonly intervalsMs: readonly number[];
  readonly expireAfterMs: number;
  readonly delayNoticeAfterMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  intervalsMs: Object.freeze([1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR]),
  expireAfterMs: 24 * HOUR,
  delayNoticeAfterMs: 4 * HOUR,
});

export function retryPolicy(p: Partial<RetryPolicy>): RetryPolicy {
  const merged = { ...defaultRetryPolicy, ...p };
  if (merged.intervalsMs.length === 0 || merged.intervalsMs.some((i) => !(i > 0))) {
    throw new RangeError('retry intervals must be a non-empty list of positive durations');
  }
  if (!(merged.expireAfterMs > 0) || !(merged.delayNoticeAfterMs > 0)) throw new RangeError('expiry and delay notice must be positive');
  return Object.freeze(merged);
}

/** The wait after the `attempts`-th failed attempt (1 = the first). */
export function retryInterval(policy: RetryPolicy, attempts: number): number {
  const i = Math.max(0, Math.min(attempts - 1, policy.intervalsMs.length - 1));
  return policy.intervalsMs[i]!;
}

export function expiresAt(policy: RetryPolicy, receivedAt: number): number {
  return receivedAt + policy.expireAfterMs;
}

export function isExpired(policy: RetryPolicy, receivedAt: number, now: number): boolean {
  return now >= expiresAt(policy, receivedAt);
}

/**
 * After a temporary failure: null when the message has expired (fail it), otherwise the next
 * attempt, never later than the expiry time so a last attempt happens right at the deadline.
 */
export function nextAttempt(policy: RetryPolicy, receivedAt: number, attempts: number, now: number): number | null {
  if (isExpired(policy, receivedAt, now)) return null;
  return Math.min(now + retryInterval(policy, attempts), expiresAt(policy, receivedAt));
}

/** Our verdict when a recipient's time is up; it quotes the last reply and is bounced like any permanent failure. */
export function expiryFailure(policy: RetryPolicy, lastReply: string | null): DeliveryFailure {
  const hours = Math.round(policy.expireAfterMs / HOUR);
  return {
    scope: 'recipient', permanent: true, remote: false,
    reply: Replies.expired(lastReply, hours),
  };
}

export function delayNoticeDue(policy: RetryPolicy, receivedAt: number, now: number): boolean {
  return now >= receivedAt + policy.delayNoticeAfterMs;
}

/** Picks a tenant's own policy when it has one. */
export class RetryPolicies {
  constructor(
    readonly server: RetryPolicy = defaultRetryPolicy,
    private readonly perTenant: ReadonlyMap<string, RetryPolicy> = new Map(),
  ) {}
  for(tenant: string | null): RetryPolicy {
    return (tenant !== null ? this.perTenant.get(tenant) : undefined) ?? this.server;
  }
  /** The earliest delay notice of any policy (the store is asked with it, each tenant's then applies). */
  minDelayNoticeAfterMs(): number {
    return Math.min(this.server.delayNoticeAfterMs, ...[...this.perTenant.values()].map((p) => p.delayNoticeAfterMs));
  }
}
