/**
 * Queue statistics on PostgreSQL, over every node's recipients, in one statement (one snapshot):
 * the waiting rows are read through the partial due index.
 */
import { recipientStates, type QueueStats, type QueueStatsStore, type RecipientState } from '../ports.js';
import type { PgDatabase } from './database.js';

export class PgQueueStatsStore implements QueueStatsStore {
  constructor(private readonly db: PgDatabase) {}

  async stats(now: number): Promise<QueueStats> {
    const { rows } = await this.db.query<{ by_state: Record<string, string> | null; oldest: string | null; expired: string }>(
      `SELECT
         (SELECT json_object_agg(state, n) FROM (SELECT state, count(*) AS n FROM recipients GROUP BY state) s) AS by_state,
         (SELECT min(m.received_at) FROM recipients r JOIN messages m ON m.id = r.message_id
           WHERE r.state IN ('queued', 'deferred', 'inflight')) AS oldest,
         (SELECT count(*) FROM recipients WHERE state = 'inflight' AND lease_until <= $1) AS expired`,
      [now],
    );
    const row = rows[0]!;
    const recipients = Object.fromEntries(recipientStates.map((s) => [s, Number(row.by_state?.[s] ?? 0)])) as Record<RecipientState, number>;
    return { recipients, oldestWaitingReceivedAt: row.oldest === null ? null : Number(row.oldest), expiredLeases: Number(row.expired) };
  }
}
