/**
 * Queue statistics on PostgreSQL, over every node's recipients, in one statement (one snapshot):
 * the oldest waiting message is the first by received_at (its index) with a waiting recipient.
 */
import { recipientStates, type QueueStats, type QueueStatsStore, type RecipientState } from '../ports.js';
import type { PgDatabase } from './database.js';

export class PgQueueStatsStore implements QueueStatsStore {
  constructor(private readonly db: PgDatabase) {}

  async stats(now: number): Promise<QueueStats> {
    const { rows } = await this.db.query<{ by_state: Record<string, string> | null; oldest: string | null; expired: string }>(
      `SELECT
         (SELECT json_object_agg(state, n) FROM (SELECT state, count(*) AS n FROM recipients GROUP BY state) s) AS by_state,
         (SELECT m.received_at FROM messages m
           WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('queued', 'deferred', 'inflight'))
           ORDER BY m.received_at LIMIT 1) AS oldest,
         (SELECT count(*) FROM recipients WHERE state = 'inflight' AND lease_until <= $1) AS expired`,
      [now],
    );
    const row = rows[0]!;
    const recipients = Object.fromEntries(recipientStates.map((s) => [s, Number(row.by_state?.[s] ?? 0)])) as Record<RecipientState, number>;
    return { recipients, oldestWaitingReceivedAt: row.oldest === null ? null : Number(row.oldest), expiredLeases: Number(row.expired) };
  }
}
