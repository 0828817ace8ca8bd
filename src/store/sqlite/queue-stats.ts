/** Queue statistics on SQLite: three reads on the indexes (recipients by state and lease, messages by id). */
import { recipientStates, type QueueStats, type QueueStatsStore, type RecipientState } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteQueueStatsStore implements QueueStatsStore {
  constructor(private readonly db: SqliteDatabase) {}

  async stats(now: number): Promise<QueueStats> {
    const read = this.db.transaction((): QueueStats => {
      const recipients = Object.fromEntries(recipientStates.map((s) => [s, 0])) as Record<RecipientState, number>;
      const rows = statement(this.db, 'SELECT state, count(*) AS n FROM recipients GROUP BY state').all() as Array<{ state: string; n: number }>;
      for (const r of rows) if ((recipientStates as readonly string[]).includes(r.state)) recipients[r.state as RecipientState] = r.n;
      // Queue ids sort by arrival (queue-id.ts): the first message in id order with a waiting
      // recipient is the oldest, found without reading every waiting recipient.
      const oldest = statement(
        this.db,
        `SELECT m.received_at FROM messages m
         WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('queued', 'deferred', 'inflight'))
         ORDER BY m.id LIMIT 1`,
      ).pluck().get() as number | undefined;
      const expiredLeases = statement(this.db, `SELECT count(*) FROM recipients WHERE state = 'inflight' AND lease_until <= @now`).pluck().get({ now }) as number;
      return { recipients, oldestWaitingReceivedAt: oldest ?? null, expiredLeases };
    });
    return read.deferred();
  }
}
