/** Row mapping shared by the delivery store and the queue operations on SQLite. */
import type { QueueMessageRow, QueueRecipientRow } from '../queue-rows.js';

export { toClaimed, toMessage, toRecipient } from '../queue-rows.js';

export interface MessageRow extends QueueMessageRow {
  smtputf8: number;
}

export type RecipientRow = QueueRecipientRow;

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
