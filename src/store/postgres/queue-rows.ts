/** Row mapping shared by the queue's adapters on PostgreSQL (migration 005). */
import type { AttributionKind, Directionality } from '../../policy/types.js';
import { isRecipientState } from '../../queue/states.js';
import type { MessageWork, QueuedMessage, QueuedRecipient } from '../ports.js';
import type { PgQueryable } from './database.js';

export interface MessageRow {
  /** attribution and directionality hold only what acceptance wrote (AcceptedMessage's types). */
  id: string; kind: string; tenant_id: string | null; tenant: string | null; attribution: AttributionKind; directionality: Directionality;
  mail_from: string; env_id: string | null; ret: string | null; body_type: string | null; smtputf8: boolean;
  size: number; header_from: string | null; received_at: number; outside_recipients: number;
  connector: string | null; client_ip: string | null; client_helo: string | null; tls: string | null;
  subject: string | null; message_id_header: string | null;
}

export interface RecipientRow {
  id: number; message_id: string; address: string; domain: string; notify: string | null; orcpt: string | null;
  state: string; attempts: number; last_reply: string | null; last_attempt_at: number | null;
  last_remote_mta: string | null; verdict: string | null; next_attempt_at: number; dsn_status: string | null;
  delayed_dsn_sent: boolean; lease_owner: string | null; lease_until: number | null; lease_generation: number;
}

export function toMessage(row: MessageRow): QueuedMessage {
  return {
    id: row.id,
    kind: row.kind === 'dsn' ? 'dsn' : 'mail',
    tenantId: row.tenant_id,
    tenant: row.tenant,
    attribution: row.attribution,
    directionality: row.directionality,
    mailFrom: row.mail_from,
    envId: row.env_id,
    ret: row.ret === 'FULL' || row.ret === 'HDRS' ? row.ret : null,
    bodyType: row.body_type,
    smtputf8: row.smtputf8,
    size: row.size,
    headerFrom: row.header_from,
    receivedAt: row.received_at,
    outsideRecipients: row.outside_recipients,
  };
}

export function toRecipient(row: RecipientRow): QueuedRecipient {
  if (!isRecipientState(row.state)) throw new Error(`recipient ${row.id} has an unknown state ${row.state}`);
  return {
    id: row.id,
    messageId: row.message_id,
    address: row.address,
    domain: row.domain,
    notify: row.notify,
    orcpt: row.orcpt,
    state: row.state,
    attempts: row.attempts,
    lastReply: row.last_reply,
    lastAttemptAt: row.last_attempt_at,
    lastRemoteMta: row.last_remote_mta,
    // NULL: a DSN, which is never rewritten.
    relayed: row.verdict === 'relay',
  };
}

/** Groups recipient rows by message (in the rows' order), loading the messages in one query. */
export async function withMessages(db: PgQueryable, rows: readonly RecipientRow[]): Promise<MessageWork[]> {
  const byMessage = new Map<string, QueuedRecipient[]>();
  for (const r of rows) {
    const list = byMessage.get(r.message_id) ?? [];
    list.push(toRecipient(r));
    byMessage.set(r.message_id, list);
  }
  if (byMessage.size === 0) return [];
  const { rows: messages } = await db.query<MessageRow>('SELECT * FROM messages WHERE id = ANY($1::text[])', [[...byMessage.keys()]]);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const out: MessageWork[] = [];
  for (const [id, recipients] of byMessage) {
    const m = byId.get(id);
    if (m) out.push({ message: toMessage(m), recipients });
  }
  return out;
}
