/**
 * When a webhook that did not get a 2xx is tried again: after each of `delays` in turn, each
 * spread by up to ±`jitter` of itself (so the receivers of many tenants are not all called again in
 * the same second), then given up. The default's delays add up to about 24 h.
 */
export interface WebhookRetrySchedule {
  /** Milliseconds to wait after attempt 1, 2, ...; the attempt after the last is not made. */
  delays: readonly number[];
  /** 0..1: how far a delay may move either way, as a fraction of itself. */
  jitter: number;
}

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

export const defaultWebhookRetrySchedule: WebhookRetrySchedule = Object.freeze({
  delays: Object.freeze([5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 8 * H, 8 * H]),
  jitter: 0.1,
});

/** The wait after `attempt` (1 for the first) failed; null: give up. `random` in [0, 1). */
export function retryDelay(schedule: WebhookRetrySchedule, attempt: number, random: () => number): number | null {
  const base = schedule.delays[attempt - 1];
  if (base === undefined) return null;
  return Math.max(0, Math.round(base * (1 + schedule.jitter * (2 * random() - 1))));
}
