/**
 * The trace of a delivery outcome: the attempt (next hop, the host and address talked to, the TLS
 * used, the reply, the time it took) and what it made of the recipient (deferred until, delivered,
 * failed, expired). Built by the scheduler from the outcome it records, and written by the queue in
 * the same statement as the outcome, only if the outcome applies. The session's context
 * (connector, client address, Message-ID, certificate) is filled in by the store from the message.
 */
import { formatFailure, type RecipientResult } from '../core/envelope.js';
import { formatReply } from '../core/reply.js';
import type { MessageWork, QueuedRecipient, RecipientOutcome } from '../store/ports.js';
import { emptyContext, type AttemptEvent, type TraceContext, type TraceEvent } from '../trace/events.js';

/** The enhanced status code of a recorded reply (`550 5.1.1 ...` → `5.1.1`): the reason an outcome is searched by. */
export function enhancedCode(reply: string | null): string | null {
  return reply === null ? null : (/^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? null);
}

export function messageContext(at: number, work: Pick<MessageWork, 'message'>, recipient: string | null): TraceContext {
  return {
    ...emptyContext(at),
    tenantId: work.message.tenantId,
    tenant: work.message.tenant,
    queueId: work.message.id,
    sender: work.message.mailFrom,
    recipient,
  };
}

export function outcomeEvents(at: number, work: MessageWork, r: QueuedRecipient, result: RecipientResult, outcome: RecipientOutcome, nextHop: string): TraceEvent[] {
  if (result.kind === 'throttled' || outcome.state === 'queued') return [];
  const base = messageContext(at, work, r.address);
  const attempts = r.attempts + 1;
  const status = outcome.state === 'delivered' ? 'Delivered' : outcome.state === 'deferred' ? 'Deferred' : 'Failed';
  const attemptReply = result.kind === 'delivered' ? formatReply(result.reply) : formatFailure(result.failure);
  const reason = result.kind === 'delivered' ? null : enhancedCode(outcome.reply);
  const attempt: AttemptEvent = {
    ...base,
    status,
    reason,
    kind: 'attempt',
    result: result.kind === 'delivered' ? 'delivered' : result.failure.permanent ? 'failed' : 'deferred',
    nextHop,
    mxHost: result.attempt?.host ?? null,
    mxIp: result.attempt?.address ?? null,
    tls: result.attempt?.tls ?? null,
    reply: attemptReply,
    remote: result.kind === 'delivered' ? true : result.failure.remote,
    durationMs: result.attempt?.durationMs ?? 0,
  };
  const reply = outcome.reply ?? attemptReply;
  const remoteMta = outcome.remoteMta ?? null;
  switch (outcome.state) {
    case 'delivered':
      return [attempt, { ...base, status: 'Delivered', reason, kind: 'delivered', reply, remoteMta, attempts }];
    case 'deferred':
      return [attempt, { ...base, status: 'Deferred', reason, kind: 'deferred', reply, nextAttemptAt: outcome.nextAttemptAt ?? at, attempts }];
    case 'failed':
      return [attempt, { ...base, status: 'Failed', reason, kind: 'failed', reply, remoteMta, attempts, dsn: outcome.dsnStatus ?? null }];
    case 'expired':
      return [attempt, { ...base, status: 'Failed', reason, kind: 'expired', reply, attempts, dsn: outcome.dsnStatus ?? null }];
  }
}
