/**
 * The log lines of trace events: one formatter, so the log and the trace never tell two stories.
 * One line per transaction outcome (a message accepted, a refusal), per delivery outcome (with the
 * attempt that led to it) and per DSN; the connection and the per-recipient `queued` events are
 * folded into those lines' fields rather than logged on their own. The client saw Exchange
 * Online's generic reply; the line carries the detail (the rule, the chart step that failed).
 */
import type { AttemptEvent, TraceEvent } from './events.js';

export interface TraceLogLine {
  message: string;
  fields: Record<string, unknown>;
}

/** The fields every line of an event carries (nulls left out). */
function contextFields(e: TraceEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    event: e.kind,
    status: e.status,
    queueId: e.queueId,
    session: e.sessionId,
    client: e.clientIp,
    tenant: e.tenant,
    tenantId: e.tenantId,
    connector: e.connector,
    certName: e.certName,
    sender: e.sender,
    recipient: e.recipient,
    messageId: e.messageIdHeader,
    reason: e.reason,
    ruleSet: e.ruleSet,
  };
  for (const [k, v] of Object.entries(fields)) if (v === null || v === undefined) delete fields[k];
  return fields;
}

const owner = (e: TraceEvent): string => (e.tenant ? ` (tenant ${e.tenant}${e.connector ? `, connector ${e.connector}` : ''})` : e.connector ? ` (connector ${e.connector})` : '');
const sender = (e: TraceEvent): string => (e.sender === null ? '' : ` from <${e.sender}>`);

function attemptFields(a: AttemptEvent | undefined): Record<string, unknown> {
  if (!a) return {};
  return { nextHop: a.nextHop, mxHost: a.mxHost, mxIp: a.mxIp, tls: a.tls, durationMs: a.durationMs };
}

function line(e: TraceEvent, attempt: AttemptEvent | undefined, recipients: number): TraceLogLine | null {
  const base = contextFields(e);
  switch (e.kind) {
    case 'received':
      return {
        message: `accepted ${e.queueId}${sender(e)} for ${recipients} recipient${recipients === 1 ? '' : 's'}${owner(e)}`,
        fields: { ...base, size: e.size, recipients, refusedAtData: e.refusedAtData },
      };
    case 'refused':
      return {
        message: `refused at ${e.stage === 'mail' ? 'MAIL FROM' : e.stage === 'rcpt' ? 'RCPT' : 'end of DATA'}${e.recipient ? ` <${e.recipient}>` : ''}${sender(e)} from ${e.clientIp}${owner(e)}: ${e.reply} (rule ${e.reason}): ${e.detail}`,
        fields: { ...base, stage: e.stage, reply: e.reply, detail: e.detail, ...(e.suppressedBefore ? { suppressedBefore: e.suppressedBefore } : {}) },
      };
    case 'delivered':
      return { message: `delivered ${e.queueId} to <${e.recipient}>: ${e.reply}`, fields: { ...base, reply: e.reply, remoteMta: e.remoteMta, attempts: e.attempts, ...attemptFields(attempt) } };
    case 'deferred':
      return {
        message: `deferred ${e.queueId} to <${e.recipient}> until ${new Date(e.nextAttemptAt).toISOString()}: ${e.reply}`,
        fields: { ...base, reply: e.reply, nextAttemptAt: new Date(e.nextAttemptAt).toISOString(), attempts: e.attempts, ...attemptFields(attempt) },
      };
    case 'failed':
      return { message: `failed ${e.queueId} to <${e.recipient}>: ${e.reply}`, fields: { ...base, reply: e.reply, remoteMta: e.remoteMta, attempts: e.attempts, dsn: e.dsn, ...attemptFields(attempt) } };
    case 'expired':
      return { message: `expired ${e.queueId} to <${e.recipient}>: ${e.reply}`, fields: { ...base, reply: e.reply, attempts: e.attempts, dsn: e.dsn, ...attemptFields(attempt) } };
    case 'dsn-queued':
      return {
        message: `queued ${e.dsnKind === 'failure' ? 'a failure' : 'a delay'} DSN ${e.dsnQueueId} to <${e.notified}> for ${e.queueId} (recipient <${e.recipient}>)`,
        fields: { ...base, dsnKind: e.dsnKind, dsnQueueId: e.dsnQueueId, notified: e.notified },
      };
    case 'srs-returned':
      return { message: `returned a bounce to ${e.srsAddress} to <${e.recipient}> in ${e.queueId}`, fields: { ...base, srsAddress: e.srsAddress } };
    case 'held':
    case 'released':
      return { message: `${e.kind} ${e.queueId} <${e.recipient}> by ${e.by}`, fields: { ...base, by: e.by } };
    case 'operator-bounced':
      return { message: `bounced ${e.queueId} <${e.recipient}> by ${e.by}: ${e.reply}`, fields: { ...base, by: e.by, reply: e.reply, dsn: e.dsn } };
    case 'deleted':
      return { message: `deleted ${e.queueId} by ${e.by} (${e.unfinished} recipients not delivered, no DSN)`, fields: { ...base, by: e.by, unfinished: e.unfinished } };
    case 'connected':
    case 'queued':
    case 'attempt':
      return null;
  }
}

/** The lines of a group of events written together (a commit's, an outcome's). */
export function traceLogLines(events: readonly TraceEvent[]): TraceLogLine[] {
  const lines: TraceLogLine[] = [];
  let attempt: AttemptEvent | undefined;
  for (const e of events) {
    if (e.kind === 'attempt') {
      attempt = e;
      continue;
    }
    const recipients = e.kind === 'received' ? events.filter((q) => q.kind === 'queued' && q.queueId === e.queueId).length : 0;
    const l = line(e, attempt?.queueId === e.queueId && attempt.recipient === e.recipient ? attempt : undefined, recipients);
    if (l) lines.push(l);
    attempt = undefined;
  }
  return lines;
}
