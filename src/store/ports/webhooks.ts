import type { TenantId } from '../../directory/index.js';

// Webhook subscriptions per tenant, the outbox the trace's writes fill, and the delivery log.
// Times are epoch milliseconds. The rules (which URL, which events, how often to retry) are
// webhooks/'s; the store keeps rows and runs guarded updates.

/** A tenant's subscription. The secrets are `whsec_` + base64 (Standard Webhooks). */
export interface WebhookSubscriptionRecord {
  /** `wh_` + ULID. */
  id: string;
  tenantId: TenantId;
  url: string;
  /** The event types it receives (webhooks/events.ts), no duplicates. */
  eventTypes: string[];
  secret: string;
  /** The secret a rotation replaced, still signed with until `previousSecretUntil`. */
  previousSecret: string | null;
  previousSecretUntil: number | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type WebhookSubscriptionPatch = Partial<
  Pick<WebhookSubscriptionRecord, 'url' | 'eventTypes' | 'secret' | 'previousSecret' | 'previousSecretUntil' | 'enabled'>
> & { updatedAt: number };

export type WebhookOutboxState = 'pending' | 'delivered' | 'failed';

/** One event owed to one subscription. */
export interface WebhookOutboxRecord {
  id: number;
  subscriptionId: string;
  tenantId: TenantId;
  eventType: string;
  /** The trace event's id (null for a test event). */
  traceId: number | null;
  /** The event as JSON text: a trace row (store/trace-rows.ts TraceRow), or a test event's data. */
  event: string;
  createdAt: number;
  state: WebhookOutboxState;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  finishedAt: number | null;
}

/** A claimed outbox row with what sending it needs; `generation` fences the outcome. */
export interface ClaimedWebhook extends WebhookOutboxRecord {
  generation: number;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: number | null;
}

export interface WebhookClaimRequest {
  now: number;
  node: string;
  leaseMs: number;
  limit: number;
}

/** One attempt as the delivery log keeps it. */
export interface WebhookAttemptRecord {
  at: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** `delivered` (2xx), `retry` (will be tried again), `failed` (given up). */
  outcome: 'delivered' | 'retry' | 'failed';
  /** The HTTP status; null when no response came (refused target, connection error, timeout). */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export interface WebhookOutcome extends WebhookAttemptRecord {
  id: number;
  node: string;
  generation: number;
  /** When `retry`: the next attempt's instant. */
  nextAttemptAt?: number;
}

export interface StoredWebhookAttempt extends WebhookAttemptRecord {
  id: number;
  outboxId: number;
  subscriptionId: string;
  tenantId: TenantId;
  eventType: string;
}

/** An event that is not a trace event, owed to every enabled subscription of the tenant to its type. */
export interface WebhookTenantEvent {
  tenantId: TenantId;
  eventType: string;
  event: string;
  at: number;
  /** Owed once per subscription and key: a second enqueue with the same key writes nothing. */
  dedupeKey: string;
}

export interface WebhookEnqueue {
  subscriptionId: string;
  tenantId: TenantId;
  eventType: string;
  event: string;
  at: number;
}

/**
 * Webhooks. The outbox is filled by the database itself in the transaction that appends the trace
 * event (a trigger on trace_events, one indexed INSERT ... SELECT by tenant id and event type over
 * the enabled subscriptions), so an event is owed exactly when the state change it describes
 * committed. `enqueue` is for what is not a trace event (the test event).
 */
export interface WebhookStore {
  /** A tenant id the directory does not have is `not-found`, an id taken `conflict`. */
  createSubscription(record: WebhookSubscriptionRecord): Promise<void>;
  getSubscription(id: string): Promise<WebhookSubscriptionRecord | null>;
  /** In id (creation) order; of one tenant when given. */
  listSubscriptions(filter?: { tenantId?: TenantId }): Promise<WebhookSubscriptionRecord[]>;
  /** The subscription after the change; null when there is none. */
  updateSubscription(id: string, patch: WebhookSubscriptionPatch): Promise<WebhookSubscriptionRecord | null>;
  /** Removes it with its outbox and log; false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  enqueue(row: WebhookEnqueue): Promise<WebhookOutboxRecord>;
  /** One indexed INSERT ... SELECT over the tenant's enabled subscriptions to the type; how many rows it wrote. */
  enqueueForTenant(event: WebhookTenantEvent): Promise<number>;
  getOutbox(id: number): Promise<WebhookOutboxRecord | null>;
  /** Newest first; of one subscription when given, else of one tenant, else all. */
  listOutbox(filter: { subscriptionId?: string; tenantId?: TenantId; limit: number }): Promise<WebhookOutboxRecord[]>;
  /**
   * Leases up to `limit` due pending rows (next attempt reached, no live lease) to `node`, oldest
   * due first; on PostgreSQL nodes claim disjoint rows (FOR UPDATE SKIP LOCKED).
   */
  claim(request: WebhookClaimRequest): Promise<ClaimedWebhook[]>;
  /** Records an attempt and moves the row on; false (nothing written) when the lease is no longer this one. */
  record(outcome: WebhookOutcome): Promise<boolean>;
  /** Makes a row pending again, due at `now`, its attempts counted from 0; null when there is none. */
  replay(id: number, now: number): Promise<WebhookOutboxRecord | null>;
  /** The attempts of one outbox row, oldest first. */
  attempts(outboxId: number): Promise<StoredWebhookAttempt[]>;
  /** Pending rows (the backlog gauge). */
  backlog(): Promise<number>;
}
