/**
 * The queue operator's actions on SQLite (`relaygate queue retry|hold|release|bounce|delete|show`).
 * Recipients are selected by filters and changed in pages of PAGE ids, each page one transaction,
 * so thousands of messages never sit in memory at once. Transitions follow src/queue/states.ts.
 */
import { formatReply, Replies } from '../../core/reply.js';
import { failureDsnStatus } from '../../queue/dsn-generator.js';
import { sourcesOf, type RecipientState } from '../../queue/states.js';
import type { SqliteDatabase } from './database.js';
import { MESSAGE_COLUMNS, RECIPIENT_COLUMNS, toMessage, toRecipient, type MessageRow, type RecipientRow } from './delivery-rows.js';

export interface QueueFilter {
  ids?: readonly string[];
  tenant?: string;
  /** Recipient domain. */
  domain?: string;
  state?: RecipientState;
  /** Only messages received at least this long ago (ms, with `now`). */
  olderThanMs?: number;
}

export type QueueAction = 'retry' | 'hold' | 'release' | 'bounce';

const PAGE = 500;

/** The states each action starts from (inflight recipients are never touched: a delivery holds them). */
export const actionSources: Readonly<Record<QueueAction, readonly RecipientState[]>> = {
  retry: ['queued', 'deferred'],
  hold: sourcesOf('held').filter((s) => s !== 'inflight'),
  release: ['held'],
  bounce: sourcesOf('failed').filter((s) => s !== 'inflight'),
};

const BOUNCED_REPLY = formatReply(Replies.operatorBounce);

function where(filter: QueueFilter, now: number, args: Record<string, unknown>): string {
  const clauses: string[] = [];
  if (filter.ids && filter.ids.length > 0) {
    clauses.push(`r.message_id IN (${filter.ids.map((_, i) => `@id${i}`).join(', ')})`);
    filter.ids.forEach((id, i) => (args[`id${i}`] = id));
  }
  if (filter.tenant) {
    clauses.push('m.tenant = @tenant');
    args.tenant = filter.tenant;
  }
  if (filter.domain) {
    clauses.push('r.domain = @domain');
    args.domain = filter.domain.toLowerCase();
  }
  if (filter.state) {
    clauses.push('r.state = @state');
    args.state = filter.state;
  }
  if (filter.olderThanMs !== undefined) {
    clauses.push('m.received_at <= @before');
    args.before = now - filter.olderThanMs;
  }
  return clauses.length > 0 ? clauses.join(' AND ') : '1 = 1';
}

export class SqliteQueueOperations {
  constructor(private readonly db: SqliteDatabase) {}

  /** Applies `action` to every matching recipient; returns how many changed. */
  apply(action: QueueAction, filter: QueueFilter, now: number): number {
    const sources = actionSources[action];
    const args: Record<string, unknown> = {};
    const select = this.db.prepare(
      `SELECT r.id, r.notify, m.mail_from AS mailFrom, m.kind FROM recipients r JOIN messages m ON m.id = r.message_id
       WHERE r.id > @after AND r.state IN (${sources.map((s) => `'${s}'`).join(', ')}) AND ${where(filter, now, args)}
       ORDER BY r.id LIMIT ${PAGE}`,
    );
    const guard = `id = @id AND state IN (${sources.map((s) => `'${s}'`).join(', ')})`;
    const update = {
      retry: this.db.prepare(`UPDATE recipients SET state = 'queued', next_attempt_at = @now, updated_at = @now WHERE ${guard}`),
      hold: this.db.prepare(`UPDATE recipients SET state = 'held', updated_at = @now WHERE ${guard}`),
      release: this.db.prepare(`UPDATE recipients SET state = 'queued', next_attempt_at = @now, updated_at = @now WHERE ${guard}`),
      bounce: this.db.prepare(
        `UPDATE recipients SET state = 'failed', last_reply = '${BOUNCED_REPLY}', last_remote_mta = NULL, dsn_status = @dsn, updated_at = @now WHERE ${guard}`,
      ),
    }[action];
    let changed = 0;
    let after = 0;
    for (let page = 0; page < 1_000_000; page++) {
      const rows = select.all({ ...args, after }) as Array<{ id: number; notify: string | null; mailFrom: string; kind: string }>;
      if (rows.length === 0) break;
      changed += this.db.transaction(() => {
        let n = 0;
        for (const r of rows) {
          const dsn = failureDsnStatus({ mailFrom: r.mailFrom, kind: r.kind === 'dsn' ? 'dsn' : 'mail' }, r.notify);
          n += update.run({ id: r.id, now, dsn }).changes;
        }
        return n;
      }).immediate();
      after = rows[rows.length - 1]!.id;
    }
    return changed;
  }

  /** Deletes every message with a matching recipient (their rows); returns the ids deleted, whose bodies go next. */
  delete(filter: QueueFilter, now: number): string[] {
    const args: Record<string, unknown> = {};
    const select = this.db.prepare(
      `SELECT DISTINCT m.id FROM messages m JOIN recipients r ON r.message_id = m.id
       WHERE m.id > @after AND ${where(filter, now, args)} ORDER BY m.id LIMIT ${PAGE}`,
    ).pluck();
    const remove = this.db.prepare('DELETE FROM messages WHERE id = ?');
    const deleted: string[] = [];
    let after = '';
    for (let page = 0; page < 1_000_000; page++) {
      const ids = select.all({ ...args, after }) as string[];
      if (ids.length === 0) break;
      this.db.transaction(() => {
        for (const id of ids) if (remove.run(id).changes > 0) deleted.push(id);
      }).immediate();
      after = ids[ids.length - 1]!;
    }
    return deleted;
  }

  /** Matching messages one at a time with their recipients (an iterator: rows are read as it goes). */
  *messages(filter: QueueFilter, now: number): Generator<{ message: ReturnType<typeof toMessage>; recipients: ReturnType<typeof toRecipient>[] }> {
    const args: Record<string, unknown> = {};
    const select = this.db.prepare(
      `SELECT DISTINCT ${MESSAGE_COLUMNS} FROM messages m JOIN recipients r ON r.message_id = m.id
       WHERE m.id > @after AND ${where(filter, now, args)} ORDER BY m.id LIMIT ${PAGE}`,
    );
    const recipientsOf = this.db.prepare(`SELECT ${RECIPIENT_COLUMNS} FROM recipients r WHERE r.message_id = ? ORDER BY r.id`);
    let after = '';
    for (let page = 0; page < 1_000_000; page++) {
      const rows = select.all({ ...args, after }) as MessageRow[];
      if (rows.length === 0) return;
      for (const row of rows) {
        yield { message: toMessage(row), recipients: (recipientsOf.all(row.id) as RecipientRow[]).map(toRecipient) };
      }
      after = rows[rows.length - 1]!.id;
    }
  }
}
