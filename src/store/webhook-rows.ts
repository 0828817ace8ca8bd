/** The webhook tables' rows as both SQL adapters read them, and the records they become. */
import type { ClaimedWebhook, StoredWebhookAttempt, WebhookOutboxRecord, WebhookOutboxState, WebhookSubscriptionRecord } from './ports.js';

export interface SubscriptionRow {
  id: string;
  tenant_id: string;
  url: string;
  event_types: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
  enabled: number | boolean;
  created_at: number;
  updated_at: number;
}

export interface OutboxRow {
  id: number;
  subscription_id: string;
  tenant_id: string;
  event_type: string;
  trace_id: number | null;
  event: string;
  created_at: number;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  finished_at: number | null;
}

export interface ClaimedRow extends OutboxRow {
  lease_generation: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
}

export interface AttemptRow {
  id: number;
  outbox_id: number;
  subscription_id: string;
  tenant_id: string;
  event_type: string;
  at: number;
  attempt: number;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

export function subscriptionFromRow(r: SubscriptionRow): WebhookSubscriptionRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    eventTypes: JSON.parse(r.event_types) as string[],
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretUntil: r.previous_secret_until === null ? null : Number(r.previous_secret_until),
    enabled: r.enabled === true || r.enabled === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function outboxFromRow(r: OutboxRow): WebhookOutboxRecord {
  return {
    id: Number(r.id),
    subscriptionId: r.subscription_id,
    tenantId: r.tenant_id,
    eventType: r.event_type,
    traceId: r.trace_id === null ? null : Number(r.trace_id),
    event: r.event,
    createdAt: Number(r.created_at),
    state: r.state as WebhookOutboxState,
    attempts: r.attempts,
    nextAttemptAt: Number(r.next_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

export function claimedFromRow(r: ClaimedRow): ClaimedWebhook {
  return {
    ...outboxFromRow(r),
    generation: r.lease_generation,
    url: r.url,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretUntil: r.previous_secret_until === null ? null : Number(r.previous_secret_until),
  };
}

export function attemptFromRow(r: AttemptRow): StoredWebhookAttempt {
  return {
    id: Number(r.id),
    outboxId: Number(r.outbox_id),
    subscriptionId: r.subscription_id,
    tenantId: r.tenant_id,
    eventType: r.event_type,
    at: Number(r.at),
    attempt: r.attempt,
    outcome: r.outcome as StoredWebhookAttempt['outcome'],
    statusCode: r.status_code,
    durationMs: r.duration_ms,
    error: r.error,
  };
}

/** The outbox row's new state after an attempt with this outcome. */
export function stateAfter(outcome: 'delivered' | 'retry' | 'failed'): WebhookOutboxState {
  return outcome === 'retry' ? 'pending' : outcome;
}

export const ATTEMPT_SELECT = `SELECT a.*, o.subscription_id, o.tenant_id, o.event_type FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id`;
