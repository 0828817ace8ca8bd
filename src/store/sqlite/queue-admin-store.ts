/**
 * The operator's side of the queue on SQLite. Only guarded updates: which recipients an action may
 * move, and to what, is decided by queue/admin.ts; a recipient that left the `from` states in the
 * meantime (a delivery leased it) is not touched.
 */
import { recipientStates, type QueueAdminStore, type QueueEntry, type QueueFilter, type RecipientTransition } from '../ports.js';
import type { TraceEvent } from '../../trace/events.js';
import type { SqliteDatabase } from './database.js';
import { SqliteTraceStore } from './trace-store.js';
import { MESSAGE_COLUMNS, RECIPIENT_COLUMNS, toMessage, toRecipient, type MessageRow, type RecipientRow } from './delivery-rows.js';

/** The states as SQL literals, checked against the closed list (they are spliced into the text). */
function stateList(states: readonly string[]): string {
  for (const s of states) if (!(recipientStates as readonly string[]).includes(s)) throw new Error(`unknown recipient state ${s}`);
  return states.map((s) => `'${s}'`).join(', ');
}

/** The WHERE clause for messages `m` matching the filter; parameters go into `args`. */
function matching(filter: QueueFilter, args: Record<string, unknown>): string {
  const clauses: string[] = [];
  if (filter.ids) {
    clauses.push(filter.ids.length === 0 ? '0 = 1' : `m.id IN (${filter.ids.map((_, i) => `@id${i}`).join(', ')})`);
    filter.ids.forEach((id, i) => (args[`id${i}`] = id));
  }
  if (filter.tenantId !== undefined) {
    clauses.push('m.tenant_id = @tenantId');
    args.tenantId = filter.tenantId;
  }
  if (filter.receivedBefore !== undefined) {
    clauses.push('m.received_at <= @receivedBefore');
    args.receivedBefore = filter.receivedBefore;
  }
  const recipient: string[] = [];
  if (filter.domain !== undefined) {
    recipient.push('r.domain = @domain');
    args.domain = filter.domain;
  }
  if (filter.state !== undefined) {
    recipient.push(`r.state = ${stateList([filter.state])}`);
  }
  if (recipient.length > 0) clauses.push(`EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND ${recipient.join(' AND ')})`);
  return clauses.length > 0 ? clauses.join(' AND ') : '1 = 1';
}

interface EntryRow extends MessageRow {
  connector: string | null;
  client_ip: string | null;
  client_helo: string | null;
  tls: string | null;
  subject: string | null;
  message_id_header: string | null;
}

interface EntryRecipientRow extends RecipientRow {
  next_attempt_at: number;
  dsn_status: string | null;
  delayed_dsn_sent: number;
  lease_owner: string | null;
  lease_until: number | null;
}

const DSN_STATUSES = ['owed', 'suppressed', 'sent'] as const;
function dsnStatusOf(row: EntryRecipientRow): QueueEntry['recipients'][number]['dsnStatus'] {
  const status = DSN_STATUSES.find((s) => s === row.dsn_status);
  if (row.dsn_status !== null && status === undefined) throw new Error(`recipient ${row.id} has an unknown DSN status ${row.dsn_status}`);
  return status ?? null;
}

export class SqliteQueueAdminStore implements QueueAdminStore {
  private readonly trace: SqliteTraceStore;

  constructor(private readonly db: SqliteDatabase) {
    this.trace = new SqliteTraceStore(db);
  }

  async select(filter: QueueFilter, page: { after?: string; limit: number }): Promise<QueueEntry[]> {
    const args: Record<string, unknown> = { after: page.after ?? '', limit: page.limit };
    const messages = this.db
      .prepare(
        `SELECT ${MESSAGE_COLUMNS}, m.connector, m.client_ip, m.client_helo, m.tls, m.subject, m.message_id_header FROM messages m
         WHERE m.id > @after AND ${matching(filter, args)} ORDER BY m.id LIMIT @limit`,
      )
      .all(args) as EntryRow[];
    const recipientsOf = this.db.prepare(
      `SELECT ${RECIPIENT_COLUMNS}, r.next_attempt_at, r.dsn_status, r.delayed_dsn_sent, r.lease_owner, r.lease_until FROM recipients r WHERE r.message_id = ? ORDER BY r.id`,
    );
    return messages.map((row) => ({
      message: {
        ...toMessage(row),
        connector: row.connector, clientIp: row.client_ip, clientHelo: row.client_helo, tls: row.tls, subject: row.subject,
        messageIdHeader: row.message_id_header,
      },
      recipients: (recipientsOf.all(row.id) as EntryRecipientRow[]).map((r) => ({
        ...toRecipient(r),
        nextAttemptAt: r.next_attempt_at,
        dsnStatus: dsnStatusOf(r),
        delayNoticeSent: r.delayed_dsn_sent === 1,
        lease: r.state === 'inflight' && r.lease_owner !== null && r.lease_until !== null ? { owner: r.lease_owner, until: r.lease_until } : null,
      })),
    }));
  }

  async transition(change: RecipientTransition, now: number): Promise<number> {
    if (change.ids.length === 0 || change.from.length === 0) return 0;
    const sets = ['state = @to', 'updated_at = @now'];
    if (change.nextAttemptAt !== undefined) sets.push('next_attempt_at = @next');
    if (change.reply !== undefined) sets.push('last_reply = @reply', 'last_remote_mta = NULL');
    if (change.dsnStatus !== undefined) sets.push('dsn_status = @dsn');
    const update = this.db.prepare(`UPDATE recipients SET ${sets.join(', ')} WHERE id = @id AND state IN (${stateList(change.from)})`);
    stateList([change.to]);
    const values = { to: change.to, now, next: change.nextAttemptAt ?? null, reply: change.reply ?? null, dsn: change.dsnStatus ?? null };
    return this.db.transaction(() => {
      let moved = 0;
      for (const id of change.ids) {
        const changed = update.run({ ...values, id }).changes;
        const events = change.events?.get(id);
        if (changed > 0 && events) this.trace.insertForMessage(events);
        moved += changed;
      }
      return moved;
    }).immediate();
  }

  async deleteMessages(ids: readonly string[], events?: ReadonlyMap<string, readonly TraceEvent[]>): Promise<number> {
    const remove = this.db.prepare('DELETE FROM messages WHERE id = ?');
    const exists = this.db.prepare('SELECT 1 FROM messages WHERE id = ?').pluck();
    return this.db.transaction(() => {
      let deleted = 0;
      for (const id of ids) {
        // Written before the row goes, so the event takes the message's context from it.
        const trace = events?.get(id);
        if (trace && exists.get(id) !== undefined) this.trace.insertForMessage(trace);
        deleted += remove.run(id).changes;
      }
      return deleted;
    }).immediate();
  }
}
