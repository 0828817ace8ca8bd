import type { TenantId } from '../../directory/index.js';
import type { TraceEvent, TraceEventKind, TraceStatus } from '../../trace/events.js';

/**
 * Which events a search means. Every field narrows; none: every event. Addresses and domains match
 * without regard to case; a domain filter matches the address's domain exactly (canonical, lower case).
 */
export interface TraceFilter {
  tenantId?: TenantId;
  sender?: string;
  senderDomain?: string;
  recipient?: string;
  recipientDomain?: string;
  messageIdHeader?: string;
  queueId?: string;
  sessionId?: string;
  clientIp?: string;
  connector?: string;
  certName?: string;
  /** Any of these statuses. */
  status?: readonly TraceStatus[];
  /** Any of these kinds. */
  kind?: readonly TraceEventKind[];
  reason?: string;
  ruleSet?: string;
  /** At or after this instant (epoch milliseconds). */
  from?: number;
  /** Before this instant. */
  to?: number;
}

/** A stored event: its id orders events of the same instant; the cursor is opaque. */
export type StoredTraceEvent = TraceEvent & { id: number };

export interface TracePage {
  /** Newest first. */
  events: StoredTraceEvent[];
  /** Pass it back for the next (older) page; null when this page was the last. */
  next: string | null;
}

/** How long each kind of event is kept (milliseconds). */
export type TraceRetention = Readonly<Record<TraceEventKind, number>>;

export interface TracePruneRequest {
  now: number;
  retention: TraceRetention;
  /** At most this many rows are removed by one call, so a pass never holds the store for long. */
  batchSize: number;
}

export interface TracePruneResult {
  /** Events removed by this call (those of dropped partitions included). */
  removed: number;
  /** True when more is due: call again (after yielding to other work). */
  more: boolean;
}

/**
 * The message trace. Events are appended with the state change they describe: the queue's own
 * write paths carry them (AcceptBatch.events, RecipientOutcome.events, the admin transitions) so
 * they commit in the same transaction; `append` is for what has no state change of its own.
 *
 * Search pages by a keyset cursor on (at, id), newest first: a page never repeats or skips an event
 * that existed when the first page was read, whatever is written meanwhile; there is no cap on the
 * number of pages or the time range. The history is kept after the message has left the queue,
 * until retention prunes it.
 */
export interface TraceStore {
  append(events: readonly TraceEvent[]): Promise<void>;
  search(filter: TraceFilter, page?: { cursor?: string | null; limit?: number }): Promise<TracePage>;
  /**
   * Everything of one message or one session, oldest first: for a queue id, its events, the
   * session's `connected` event and the refusals of the same transaction; for a session id, every
   * event of the session and of the messages it queued. Empty when the id names neither.
   */
  story(id: string): Promise<StoredTraceEvent[]>;
  /** Removes events older than their kind's retention, at most `batchSize` rows a call. */
  prune(request: TracePruneRequest): Promise<TracePruneResult>;
}
