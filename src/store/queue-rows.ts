/**
 * The queue's rows as both SQL adapters read them (the same columns on SQLite and PostgreSQL), mapped
 * to the port's records once. Each adapter's row type extends these with what only it selects.
 */
import type { AttributionKind, Directionality } from '../policy/types.js';
import { recipientStates, type ClaimedRecipient, type QueuedMessage, type QueuedRecipient, type RecipientState } from './ports.js';

export interface QueueMessageRow {
  /** attribution and directionality hold only what acceptance wrote (AcceptedMessage's types). */
  id: string; kind: string; tenant_id: string | null; tenant: string | null; attribution: AttributionKind; directionality: Directionality;
  mail_from: string; env_id: string | null; ret: string | null; body_type: string | null;
  /** SQLite stores 0/1, PostgreSQL a boolean. */
  smtputf8: number | boolean;
  size: number; header_from: string | null; received_at: number; outside_recipients: number;
}

export interface QueueRecipientRow {
  id: number; message_id: string; address: string; domain: string; notify: string | null; orcpt: string | null;
  state: string; attempts: number; last_reply: string | null; last_attempt_at: number | null;
  last_remote_mta: string | null; verdict: string | null;
}

const isState = (s: string): s is RecipientState => (recipientStates as readonly string[]).includes(s);

export function toMessage(row: QueueMessageRow): QueuedMessage {
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
    smtputf8: row.smtputf8 === true || row.smtputf8 === 1,
    size: row.size,
    headerFrom: row.header_from,
    receivedAt: row.received_at,
    outsideRecipients: row.outside_recipients,
  };
}

export function toRecipient(row: QueueRecipientRow): QueuedRecipient {
  if (!isState(row.state)) throw new Error(`recipient ${row.id} has an unknown state ${row.state}`);
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

/** A recipient row as a claim returned it: the recipient with its lease's generation (the fencing token). */
export function toClaimed(row: QueueRecipientRow & { lease_generation: number }): ClaimedRecipient {
  return { ...toRecipient(row), generation: row.lease_generation };
}
