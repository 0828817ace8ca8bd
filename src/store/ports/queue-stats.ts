import type { RecipientState } from './queue.js';

/** The queue at one instant, as the metrics show it. */
export interface QueueStats {
  /** Recipients by state, every state listed (0 when none). */
  recipients: Record<RecipientState, number>;
  /**
   * When the oldest message with a recipient still waiting for delivery (queued, deferred or in
   * flight; not held, not final) was received; null when none waits.
   */
  oldestWaitingReceivedAt: number | null;
  /** In-flight recipients whose lease had run out at `now`: their node died or stalled; the next claim takes them. */
  expiredLeases: number;
}

/**
 * Counts over the whole queue (all nodes sharing it), read at scrape time: a few aggregate queries
 * on indexed columns, never a row per recipient sent to the caller.
 */
export interface QueueStatsStore {
  stats(now: number): Promise<QueueStats>;
}
