import type { SqliteDatabase } from './database.js';

export interface QueueListRecipient {
  address: string;
  state: string;
  attempts: number;
  nextAttemptAt: number;
  lastReply: string | null;
}

/** One message as `relaygate queue list` shows it. */
export interface QueueListEntry {
  id: string;
  kind: string;
  tenant: string | null;
  mailFrom: string;
  size: number;
  receivedAt: number;
  clientIp: string | null;
  subject: string | null;
  recipients: QueueListRecipient[];
}

export interface QueueListFilter {
  tenant?: string;
  /** Only messages with a recipient in this state. */
  state?: string;
  limit?: number;
}

interface MessageRow {
  id: string;
  kind: string;
  tenant: string | null;
  mail_from: string;
  size: number;
  received_at: number;
  client_ip: string | null;
  subject: string | null;
}

interface RecipientRow {
  message_id: string;
  address: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_reply: string | null;
}

/** Oldest first (queue ids sort by arrival), with each message's recipients. */
export function listQueue(db: SqliteDatabase, filter: QueueListFilter = {}): QueueListEntry[] {
  const where: string[] = [];
  const args: Record<string, unknown> = { limit: filter.limit ?? 1000 };
  if (filter.tenant) {
    where.push('m.tenant = @tenant');
    args.tenant = filter.tenant;
  }
  if (filter.state) {
    where.push('EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = @state)');
    args.state = filter.state;
  }
  const messages = db
    .prepare(
      `SELECT m.id, m.kind, m.tenant, m.mail_from, m.size, m.received_at, m.client_ip, m.subject FROM messages m
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY m.id LIMIT @limit`,
    )
    .all(args) as MessageRow[];
  const recipientsOf = db.prepare(
    'SELECT message_id, address, state, attempts, next_attempt_at, last_reply FROM recipients WHERE message_id = ? ORDER BY id',
  );
  return messages.map((m) => ({
    id: m.id,
    kind: m.kind,
    tenant: m.tenant,
    mailFrom: m.mail_from,
    size: m.size,
    receivedAt: m.received_at,
    clientIp: m.client_ip,
    subject: m.subject,
    recipients: (recipientsOf.all(m.id) as RecipientRow[]).map((r) => ({
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastReply: r.last_reply,
    })),
  }));
}
