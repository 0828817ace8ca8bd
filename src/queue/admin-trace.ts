/**
 * The trace of an operator's action on the queue: held, released, bounced (per recipient that
 * moved) and deleted (per message), each naming who did it (`cli:<os user>`, `api:<token id>`).
 * Written by the store in the transaction of the change, only for what actually moved.
 */
import type { QueueEntry, QueuedRecipient } from '../store/ports.js';
import { emptyContext, type Actor, type TraceContext, type TraceEvent } from '../trace/events.js';

export function entryContext(at: number, entry: QueueEntry, recipient: string | null): TraceContext {
  const m = entry.message;
  return {
    ...emptyContext(at),
    tenantId: m.tenantId,
    tenant: m.tenant,
    queueId: m.id,
    clientIp: m.clientIp,
    connector: m.connector,
    sender: m.mailFrom,
    recipient,
    messageIdHeader: m.messageIdHeader,
    reason: 'operator',
  };
}

export type TracedAction = 'hold' | 'release' | 'bounce';

export function actionEvent(at: number, action: TracedAction, entry: QueueEntry, r: QueuedRecipient, by: Actor, bounce?: { reply: string; dsn: 'owed' | 'suppressed' }): TraceEvent {
  const c = entryContext(at, entry, r.address);
  if (action === 'hold') return { ...c, status: 'Pending', kind: 'held', by };
  if (action === 'release') return { ...c, status: 'Pending', kind: 'released', by };
  return { ...c, status: 'Failed', kind: 'operator-bounced', by, reply: bounce?.reply ?? '', dsn: bounce?.dsn ?? 'suppressed' };
}

const FINAL = new Set(['delivered', 'failed', 'expired']);

export function deletedEvent(at: number, entry: QueueEntry, by: Actor): TraceEvent {
  return { ...entryContext(at, entry, null), status: 'Failed', kind: 'deleted', by, unfinished: entry.recipients.filter((r) => !FINAL.has(r.state)).length };
}
