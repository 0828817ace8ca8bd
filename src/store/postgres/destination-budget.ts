/**
 * The destinations' budget on PostgreSQL (migration 009), shared by every node. A node takes its
 * slots in one transaction holding an advisory lock on the destination (the free slots it counts
 * and the row it writes are one step: two nodes never both take the same free slots); a window's
 * message count is one conditional upsert, as the quota counters: its row lock makes the check and
 * the add atomic, and a count that would pass the limit is retried once with what is left.
 */
import { assertCounts } from '../budget-arguments.js';
import type { DestinationBudget } from '../ports.js';
import type { PgDatabase } from './database.js';

/** The first key of the two-key advisory locks taken per destination ("RGDS"); a key space apart from the migrations' lock. */
const SLOT_LOCK_CLASS = 0x52474453;

const COUNT = `INSERT INTO destination_rates AS r (destination, window_start, messages) VALUES ($1, $2, $3)
  ON CONFLICT (destination, window_start) DO UPDATE SET messages = r.messages + excluded.messages
    WHERE r.messages + excluded.messages <= $4
  RETURNING (xmax = 0) AS inserted`;

export class PgDestinationBudget implements DestinationBudget {
  constructor(private readonly db: PgDatabase) {}

  async acquireSlots(node: string, destination: string, wanted: number, limit: number, now: number, until: number): Promise<number> {
    assertCounts('connection slots', wanted, limit);
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::integer, hashtext($2))', [SLOT_LOCK_CLASS, destination]);
      await tx.query('DELETE FROM destination_slots WHERE destination = $1 AND (lease_until <= $2 OR node = $3)', [destination, now, node]);
      const { rows } = await tx.query<{ held: number }>('SELECT COALESCE(SUM(slots), 0)::integer AS held FROM destination_slots WHERE destination = $1', [destination]);
      const granted = Math.max(0, Math.min(wanted, limit - (rows[0]?.held ?? 0)));
      if (granted > 0) {
        await tx.query('INSERT INTO destination_slots (destination, node, slots, lease_until) VALUES ($1, $2, $3, $4)', [destination, node, granted, until]);
      }
      return granted;
    });
  }

  async renewSlots(node: string, now: number, until: number): Promise<number> {
    const { rowCount } = await this.db.query('UPDATE destination_slots SET lease_until = $3 WHERE node = $1 AND lease_until > $2', [node, now, until]);
    return rowCount ?? 0;
  }

  async releaseSlots(node: string, destination?: string): Promise<void> {
    if (destination === undefined) await this.db.query('DELETE FROM destination_slots WHERE node = $1', [node]);
    else await this.db.query('DELETE FROM destination_slots WHERE node = $1 AND destination = $2', [node, destination]);
  }

  async countMessages(destination: string, windowStart: number, wanted: number, limit: number): Promise<number> {
    assertCounts('messages', wanted, limit);
    let sent = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      const n = Math.min(wanted, limit - sent);
      if (n <= 0) return 0;
      const { rows } = await this.db.query<{ inserted: boolean }>(COUNT, [destination, windowStart, n, limit]);
      if (rows[0]) {
        if (rows[0].inserted) await this.db.query('DELETE FROM destination_rates WHERE destination = $1 AND window_start < $2', [destination, windowStart]);
        return n;
      }
      const current = await this.db.query<{ messages: number }>('SELECT messages FROM destination_rates WHERE destination = $1 AND window_start = $2', [destination, windowStart]);
      sent = current.rows[0]?.messages ?? limit;
    }
    return 0;
  }
}
