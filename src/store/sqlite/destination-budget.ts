/**
 * The destinations' budget on SQLite (migration 012), shared by every process on the file: each
 * call is one IMMEDIATE transaction, so the free slots a node counts and the slots it takes, or a
 * window's count and the add, are one step for all of them. They commit without waiting for the
 * disk (a pass takes and gives back slots per destination: two fsyncs each would cost about 5 ms):
 * the budget is working state, which a crash may lose (what it held is free again), and in WAL mode
 * the next durable commit of the queue syncs these too, so the queue's own commits keep their guarantee.
 */
import { assertCounts } from '../budget-arguments.js';
import type { DestinationBudget } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteDestinationBudget implements DestinationBudget {
  constructor(private readonly db: SqliteDatabase) {}

  async acquireSlots(node: string, destination: string, wanted: number, limit: number, now: number, until: number): Promise<number> {
    assertCounts('connection slots', wanted, limit);
    return this.workingState(() => {
        statement(this.db, 'DELETE FROM destination_slots WHERE destination = ? AND (lease_until <= ? OR node = ?)').run(destination, now, node);
        const held = statement(this.db, 'SELECT COALESCE(SUM(slots), 0) FROM destination_slots WHERE destination = ?').pluck().get(destination) as number;
        const granted = Math.max(0, Math.min(wanted, limit - held));
        if (granted > 0) {
          statement(this.db, 'INSERT INTO destination_slots (destination, node, slots, lease_until) VALUES (?, ?, ?, ?)').run(destination, node, granted, until);
        }
        return granted;
    });
  }

  async renewSlots(node: string, now: number, until: number): Promise<number> {
    return this.workingState(() => statement(this.db, 'UPDATE destination_slots SET lease_until = ? WHERE node = ? AND lease_until > ?').run(until, node, now).changes);
  }

  async releaseSlots(node: string, destination?: string): Promise<void> {
    this.workingState(() => {
      if (destination === undefined) statement(this.db, 'DELETE FROM destination_slots WHERE node = ?').run(node);
      else statement(this.db, 'DELETE FROM destination_slots WHERE node = ? AND destination = ?').run(node, destination);
    });
  }

  async countMessages(destination: string, windowStart: number, wanted: number, limit: number): Promise<number> {
    assertCounts('messages', wanted, limit);
    return this.workingState(() => {
        statement(this.db, 'DELETE FROM destination_rates WHERE destination = ? AND window_start < ?').run(destination, windowStart);
        const sent = (statement(this.db, 'SELECT messages FROM destination_rates WHERE destination = ? AND window_start = ?').pluck().get(destination, windowStart) as number | undefined) ?? 0;
        const granted = Math.max(0, Math.min(wanted, limit - sent));
        if (granted > 0) {
          statement(
            this.db,
            `INSERT INTO destination_rates (destination, window_start, messages) VALUES (?, ?, ?)
             ON CONFLICT (destination, window_start) DO UPDATE SET messages = messages + excluded.messages`,
          ).run(destination, windowStart, granted);
        }
        return granted;
    });
  }

  /** One IMMEDIATE transaction committed with `synchronous = NORMAL`, the connection's own setting restored after it. */
  private workingState<T>(fn: () => T): T {
    const was: unknown = this.db.pragma('synchronous', { simple: true });
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.db.pragma(`synchronous = ${Number(was)}`);
    }
  }
}
