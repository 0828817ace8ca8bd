/**
 * The operator's side of the queue on PostgreSQL. Only guarded updates: which recipients an action
 * may move, and to what, is decided by queue/admin.ts; a recipient that left the `from` states in
 * the meantime (a node leased it) is not touched. An update waits for a claim that holds the row
 * and then checks the guard against what the claim wrote.
 */
import { recipientStates, type QueueAdminStore, type QueueEntry, type QueueFilter, type RecipientTransition } from '../ports.js';
import type { TraceEvent } from '../../trace/events.js';
import type { PgDatabase } from './database.js';
import { traceInsertSql, traceParameter } from './trace-store.js';
import { toMessage, toRecipient, type MessageRow, type RecipientRow } from './queue-rows.js';

function checkStates(states: readonly string[]): string[] {
  for (const s of states) if (!(recipientStates as readonly string[]).includes(s)) throw new Error(`unknown recipient state ${s}`);
  return [...states];
}

const DSN_STATUSES = ['owed', 'suppressed', 'sent'] as const;
function dsnStatusOf(row: RecipientRow): QueueEntry['recipients'][number]['dsnStatus'] {
  const status = DSN_STATUSES.find((s) => s === row.dsn_status);
  if (row.dsn_status !== null && status === undefined) throw new Error(`recipient ${row.id} has an unknown DSN status ${row.dsn_status}`);
  return status ?? null;
}

export class PgQueueAdminStore implements QueueAdminStore {
  constructor(private readonly db: PgDatabase) {}

  async select(filter: QueueFilter, page: { after?: string; limit: number }): Promise<QueueEntry[]> {
    const args: unknown[] = [page.after ?? '', page.limit];
    const where = ['m.id > $1'];
    const param = (value: unknown): string => {
      args.push(value);
      return `$${args.length}`;
    };
    if (filter.ids) where.push(`m.id = ANY(${param(filter.ids)}::text[])`);
    if (filter.tenantId !== undefined) where.push(`m.tenant_id = ${param(filter.tenantId)}`);
    if (filter.receivedBefore !== undefined) where.push(`m.received_at <= ${param(filter.receivedBefore)}`);
    const recipient: string[] = [];
    if (filter.domain !== undefined) recipient.push(`r.domain = ${param(filter.domain)}`);
    if (filter.state !== undefined) recipient.push(`r.state = ${param(checkStates([filter.state])[0])}`);
    if (recipient.length > 0) where.push(`EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND ${recipient.join(' AND ')})`);
    return this.db.transaction(
      async (tx) => {
        const { rows: messages } = await tx.query<MessageRow>(`SELECT m.* FROM messages m WHERE ${where.join(' AND ')} ORDER BY m.id LIMIT $2`, args);
        if (messages.length === 0) return [];
        const { rows } = await tx.query<RecipientRow>('SELECT * FROM recipients WHERE message_id = ANY($1::text[]) ORDER BY id', [messages.map((m) => m.id)]);
        const byMessage = new Map<string, RecipientRow[]>();
        for (const r of rows) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), r]);
        return messages.map((m) => ({
          message: {
            ...toMessage(m),
            connector: m.connector, clientIp: m.client_ip, clientHelo: m.client_helo, tls: m.tls, subject: m.subject,
            messageIdHeader: m.message_id_header,
          },
          recipients: (byMessage.get(m.id) ?? []).map((r) => ({
            ...toRecipient(r),
            nextAttemptAt: r.next_attempt_at,
            dsnStatus: dsnStatusOf(r),
            delayNoticeSent: r.delayed_dsn_sent,
            lease: r.state === 'inflight' && r.lease_owner !== null && r.lease_until !== null ? { owner: r.lease_owner, until: r.lease_until } : null,
          })),
        }));
      },
      { readOnly: true },
    );
  }

  async transition(change: RecipientTransition, now: number): Promise<number> {
    if (change.ids.length === 0 || change.from.length === 0) return 0;
    const args: unknown[] = [change.ids, checkStates(change.from), checkStates([change.to])[0], now];
    const sets = ['state = $3', 'updated_at = $4'];
    const param = (value: unknown): string => {
      args.push(value);
      return `$${args.length}`;
    };
    if (change.nextAttemptAt !== undefined) sets.push(`next_attempt_at = ${param(change.nextAttemptAt)}`);
    if (change.reply !== undefined) sets.push(`last_reply = ${param(change.reply)}`, 'last_remote_mta = NULL');
    if (change.dsnStatus !== undefined) sets.push(`dsn_status = ${param(change.dsnStatus)}`);
    const update = `UPDATE recipients SET ${sets.join(', ')} WHERE id = ANY($1::bigint[]) AND state = ANY($2::text[]) RETURNING id`;
    const events = [...(change.events ?? [])].flatMap(([rid, list]) => list.map((event) => ({ event, rid })));
    if (events.length === 0) return (await this.db.query(update, args)).rowCount ?? 0;
    // The trace goes with the same statement, for the recipients that moved.
    const traced = `WITH moved AS (${update}), traced AS (${traceInsertSql(param(traceParameter(events)), true, 'JOIN moved ON moved.id = e.rid')} RETURNING 1)
      SELECT count(*)::bigint AS n FROM moved`;
    const { rows } = await this.db.query<{ n: number }>(traced, args);
    return rows[0]?.n ?? 0;
  }

  async deleteMessages(ids: readonly string[], events?: ReadonlyMap<string, readonly TraceEvent[]>): Promise<number> {
    if (ids.length === 0) return 0;
    const trace = [...(events ?? [])].filter(([id]) => ids.includes(id)).flatMap(([, list]) => list.map((event) => ({ event })));
    if (trace.length === 0) return (await this.db.query('DELETE FROM messages WHERE id = ANY($1::text[])', [ids])).rowCount ?? 0;
    // One transaction: the events take the message's context from its row, then the row goes.
    return this.db.transaction(async (tx) => {
      const { rows: present } = await tx.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1::text[]) FOR UPDATE', [ids]);
      const here = new Set(present.map((r) => r.id));
      const written = trace.filter(({ event }) => event.queueId !== null && here.has(event.queueId));
      if (written.length > 0) await tx.query(traceInsertSql('$1', true), [traceParameter(written)]);
      return (await tx.query('DELETE FROM messages WHERE id = ANY($1::text[])', [ids])).rowCount ?? 0;
    });
  }
}
