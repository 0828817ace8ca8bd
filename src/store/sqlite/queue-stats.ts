/** Queue statistics on SQLite: three aggregate reads on the recipients indexes (state, lease). */
import { recipientStates, type QueueStats, type QueueStatsStore, type RecipientState } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteQueueStatsStore implements QueueStatsStore {
  constructor(private readonly db: SqliteDatabase) {}

  async stats(now: number): Promise<QueueStats> {
    const read = this.db.transaction((): QueueStats => {
      const recipients = Object.fromEntries(recipientStates.map((s) => [s, 0])) as Record<RecipientState, number>;
      const rows = statement(this.db, 'SELECT state, count(*) AS n FROM recipients GROUP BY state').all() as Array<{ state: string; n: number }>;
      for (const r of rows) if ((recipientStates as readonly string[]).includes(r.state)) recipients[r.state as RecipientState] = r.n;
      const oldest = statement(
        this.db,
        `SELECT min(m.received_at) FROM recipients r JOIN messages m ON m.id = r.message_id
         WHERE r.state IN ('queued', 'deferred', 'inflight')`,
      ).pluck().get() as number | null;
      const expiredLeases = statement(this.db, `SELECT count(*) FROM recipients WHERE state = 'inflight' AND lease_until <= @now`).pluck().get({ now }) as number;
      return { recipients, oldestWaitingReceivedAt: oldest ?? null, expiredLeases };
    });
    return read.deferred();
  }
}
