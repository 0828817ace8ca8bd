/** Row mapping shared by the delivery store and the queue operations on SQLite. */
import type { QueuedMessage, QueuedRecipient } from '../ports.js';
import { isRecipientState } from '../../queue/states.js';
import type { AttributionKind, Directionality } from '../../policy/types.js';

export interface MessageRow {
  /** attribution and directionality hold only what acceptance wrote (AcceptedMessage's types). */
  id: string; kind: string; tenant_id: string | null; tenant: string | null; attribution: AttributionKind; directionality: Directionality;
  mail_from: string; env_id: string | null; ret: string | null; body_type: string | null; smtputf8: number;
  size: number; header_from: string | null; received_at: number; outside_recipients: number;
}

export interface RecipientRow {
  id: number; message_id: string; address: string; domain: string; notify: string | null; orcpt: string | null;
  state: string; attempts: number; last_reply: string | null; last_attempt_at: number | null;
  last_remote_mta: string | null; verdict: string | null;
}

/**
 * The value of `messages.tenant_id` for the parameter `@tenantId`: the id, or null when the directory
 * no longer has that tenant (removed after the decision). The reference would otherwise refuse the
 * whole group commit.
 */
export const TENANT_ID_IF_KNOWN = '(SELECT t.id FROM tenants t WHERE t.id = @tenantId)';

export const MESSAGE_COLUMNS =
  'm.id, m.kind, m.tenant_id, m.tenant, m.attribution, m.directionality, m.mail_from, m.env_id, m.ret, m.body_type, m.smtputf8, m.size, m.header_from, m.received_at, ' +
  "(SELECT COUNT(*) FROM recipients o WHERE o.message_id = m.id AND o.verdict = 'relay') AS outside_recipients";
export const RECIPIENT_COLUMNS =
  'r.id, r.message_id, r.address, r.domain, r.notify, r.orcpt, r.state, r.attempts, r.last_reply, r.last_attempt_at, r.last_remote_mta, r.verdict';

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
    smtputf8: row.smtputf8 === 1,
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
    // NULL: a DSN, or queued before verdicts were kept (migration 005): not relayed, never rewritten.
    relayed: row.verdict === 'relay',
  };
}
