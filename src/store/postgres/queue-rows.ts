/** Row mapping shared by the queue's adapters on PostgreSQL (migration 005). */
import type { MessageWork, QueuedRecipient } from '../ports.js';
import { toClaimed, toMessage, toRecipient, type QueueMessageRow, type QueueRecipientRow } from '../queue-rows.js';
import type { PgQueryable } from './database.js';

export { toClaimed, toMessage, toRecipient };

export interface MessageRow extends QueueMessageRow {
  smtputf8: boolean;
  connector: string | null; client_ip: string | null; client_helo: string | null; tls: string | null;
  subject: string | null; message_id_header: string | null;
}

export interface RecipientRow extends QueueRecipientRow {
  next_attempt_at: number; dsn_status: string | null;
  delayed_dsn_sent: boolean; lease_owner: string | null; lease_until: number | null; lease_generation: number;
}

/** Groups recipient rows by message (in the rows' order), each mapped by `map`, loading the messages in one query. */
export async function withMessages<R extends QueuedRecipient>(db: PgQueryable, rows: readonly RecipientRow[], map: (row: RecipientRow) => R): Promise<Array<MessageWork<R>>> {
  const byMessage = new Map<string, R[]>();
  for (const r of rows) {
    const list = byMessage.get(r.message_id) ?? [];
    list.push(map(r));
    byMessage.set(r.message_id, list);
  }
  if (byMessage.size === 0) return [];
  const { rows: messages } = await db.query<MessageRow>('SELECT * FROM messages WHERE id = ANY($1::text[])', [[...byMessage.keys()]]);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const out: Array<MessageWork<R>> = [];
  for (const [id, recipients] of byMessage) {
    const m = byId.get(id);
    if (m) out.push({ message: toMessage(m), recipients });
  }
  return out;
}
