import type { TenantId } from '../../directory/index.js';


/** A UTC day, `YYYY-MM-DD`: daily quotas reset at 00:00 UTC. */
export type UtcDay = string;

export interface CounterResult {
  /** Whether the `n` were counted (false: they would have passed the limit; nothing was counted). */
  ok: boolean;
  /** The count after the call. */
  count: number;
}

/**
 * Recipients counted per tenant and UTC day. `add` checks and counts in one atomic step, so any
 * number of processes sharing the store enforce one limit between them.
 */
export interface QuotaCounters {
  /** Adds `n` unless the count would pass `limit` (null: no limit, always counted). */
  add(tenantId: TenantId, day: UtcDay, n: number, limit: number | null): Promise<CounterResult>;
  count(tenantId: TenantId, day: UtcDay): Promise<number>;
}
