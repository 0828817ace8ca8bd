/**
 * One trace event as a flat record with Exchange Online's message trace column names where one
 * exists (the historical search report's `origin_timestamp`, `sender_address`, `recipient_status`,
 * `message_subject`, `total_bytes`, `original_client_ip`, `connector_id`, `return_path`, ...; Get-
 * MessageTrace's `message_trace_id` for the id `trace show` takes), and relaygate's own for the
 * rest. The search's JSON and CSV are these records; the admin API can serve the same.
 */
import type { StoredTraceEvent } from '../store/ports.js';

export interface TraceRecord {
  /** When the event happened (ISO 8601, UTC). */
  origin_timestamp: string;
  /** relaygate's event kind: connected, refused, received, queued, attempt, delivered, ... */
  event: string;
  status: string | null;
  sender_address: string | null;
  recipient_address: string | null;
  /** `<recipient>##<status>`, as Exchange writes it. */
  recipient_status: string | null;
  /** The Message-ID header field. */
  message_id: string | null;
  /** The id whose whole story `trace show` prints: the queue id, else the session id. */
  message_trace_id: string | null;
  queue_id: string | null;
  session_id: string | null;
  tenant: string | null;
  tenant_id: string | null;
  original_client_ip: string | null;
  connector_id: string | null;
  certificate_name: string | null;
  /** The envelope sender (MAIL FROM). */
  return_path: string | null;
  message_subject: string | null;
  total_bytes: number | null;
  /** The decision rule or the outcome's reason. */
  reason: string | null;
  rule_set: string | null;
  /** The SMTP reply of the event, when it has one (ours for a refusal, the remote's for an attempt). */
  reply: string | null;
  /** What the client was not told: why, in the workflow chart's words. */
  detail: string | null;
  event_id: number;
}

export const TRACE_RECORD_COLUMNS = [
  'origin_timestamp', 'event', 'status', 'sender_address', 'recipient_address', 'recipient_status', 'message_id', 'message_trace_id', 'queue_id',
  'session_id', 'tenant', 'tenant_id', 'original_client_ip', 'connector_id', 'certificate_name', 'return_path', 'message_subject', 'total_bytes',
  'reason', 'rule_set', 'reply', 'detail', 'event_id',
] as const satisfies ReadonlyArray<keyof TraceRecord>;

export function traceRecord(e: StoredTraceEvent): TraceRecord {
  return {
    origin_timestamp: new Date(e.at).toISOString(),
    event: e.kind,
    status: e.status,
    sender_address: e.sender,
    recipient_address: e.recipient,
    recipient_status: e.recipient !== null && e.status !== null ? `${e.recipient}##${e.status}` : null,
    message_id: e.messageIdHeader,
    message_trace_id: e.queueId ?? e.sessionId,
    queue_id: e.queueId,
    session_id: e.sessionId,
    tenant: e.tenant,
    tenant_id: e.tenantId,
    original_client_ip: e.clientIp,
    connector_id: e.connector,
    certificate_name: e.certName,
    return_path: e.sender,
    message_subject: e.kind === 'received' ? e.subject : null,
    total_bytes: e.kind === 'received' ? e.size : null,
    reason: e.reason,
    rule_set: e.ruleSet,
    reply: replyOf(e),
    detail: e.kind === 'refused' ? e.detail : null,
    event_id: e.id,
  };
}

/** The SMTP reply an event carries, if its kind has one. */
export function replyOf(e: StoredTraceEvent): string | null {
  switch (e.kind) {
    case 'refused':
    case 'attempt':
    case 'deferred':
    case 'delivered':
    case 'failed':
    case 'expired':
    case 'operator-bounced':
      return e.reply;
    default:
      return null;
  }
}
