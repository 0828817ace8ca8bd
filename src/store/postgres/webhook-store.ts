/**
 * Webhooks on PostgreSQL (migration 013). The outbox is filled by a trigger on trace_events inside
 * the transaction that appends the event. Nodes share the outbox: a claim locks due rows
 * FOR UPDATE SKIP LOCKED and leases them with a new generation, which an outcome is checked
 * against, so two nodes never send the same row at once and a node paused past its lease cannot
 * record over the claim that followed.
 */
import { RelaygateError } from '../../core/errors.js';
import type {
  ClaimedWebhook, StoredWebhookAttempt, WebhookClaimRequest, WebhookEnqueue, WebhookOutboxRecord, WebhookOutcome, WebhookStore,
  WebhookSubscriptionPatch, WebhookSubscriptionRecord, WebhookTenantEvent,
} from '../ports.js';
import {
  ATTEMPT_SELECT, attemptFromRow, claimedFromRow, outboxFromRow, stateAfter, subscriptionFromRow,
  type AttemptRow, type ClaimedRow, type OutboxRow, type SubscriptionRow,
} from '../webhook-rows.js';
import type { PgDatabase, PgQueryable } from './database.js';
import { postgresFailure } from './errors.js';

function constraintFailure(err: unknown, what: Record<string, unknown>): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === '23503') return new RelaygateError('not-found', 'no such tenant', { details: { field: 'tenant', ...what }, cause: err });
  if (code === '23505') return new RelaygateError('conflict', 'a subscription with this id exists', { details: what, cause: err });
  return postgresFailure(err);
}

async function writeEvents(tx: PgQueryable, s: Pick<WebhookSubscriptionRecord, 'id' | 'tenantId' | 'eventTypes' | 'enabled'>): Promise<void> {
  await tx.query('DELETE FROM webhook_subscription_events WHERE subscription_id = $1', [s.id]);
  if (!s.enabled || s.eventTypes.length === 0) return;
  await tx.query(
    'INSERT INTO webhook_subscription_events (tenant_id, event_type, subscription_id) SELECT $1, t, $2 FROM unnest($3::text[]) AS t',
    [s.tenantId, s.id, s.eventTypes],
  );
}

export class PgWebhookStore implements WebhookStore {
  constructor(private readonly db: PgDatabase) {}

  async createSubscription(s: WebhookSubscriptionRecord): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, secret, previous_secret, previous_secret_until, enabled, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [s.id, s.tenantId, s.url, JSON.stringify(s.eventTypes), s.secret, s.previousSecret, s.previousSecretUntil, s.enabled, s.createdAt, s.updatedAt],
        );
        await writeEvents(tx, s);
      });
    } catch (err) {
      throw constraintFailure(err, { id: s.id });
    }
  }

  async getSubscription(id: string): Promise<WebhookSubscriptionRecord | null> {
    const { rows } = await this.db.query<SubscriptionRow>('SELECT * FROM webhook_subscriptions WHERE id = $1', [id]);
    return rows[0] ? subscriptionFromRow(rows[0]) : null;
  }

  async listSubscriptions(filter: { tenantId?: string } = {}): Promise<WebhookSubscriptionRecord[]> {
    const { rows } = filter.tenantId === undefined
      ? await this.db.query<SubscriptionRow>('SELECT * FROM webhook_subscriptions ORDER BY id')
      : await this.db.query<SubscriptionRow>('SELECT * FROM webhook_subscriptions WHERE tenant_id = $1 ORDER BY id', [filter.tenantId]);
    return rows.map(subscriptionFromRow);
  }

  async updateSubscription(id: string, patch: WebhookSubscriptionPatch): Promise<WebhookSubscriptionRecord | null> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<SubscriptionRow>('SELECT * FROM webhook_subscriptions WHERE id = $1 FOR UPDATE', [id]);
      if (!rows[0]) return null;
      const next: WebhookSubscriptionRecord = { ...subscriptionFromRow(rows[0]), ...patch };
      await tx.query(
        `UPDATE webhook_subscriptions SET url = $1, event_types = $2, secret = $3, previous_secret = $4, previous_secret_until = $5, enabled = $6,
           updated_at = $7 WHERE id = $8`,
        [next.url, JSON.stringify(next.eventTypes), next.secret, next.previousSecret, next.previousSecretUntil, next.enabled, next.updatedAt, id],
      );
      if (patch.eventTypes !== undefined || patch.enabled !== undefined) await writeEvents(tx, next);
      return next;
    });
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM webhook_subscriptions WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async enqueue(e: WebhookEnqueue): Promise<WebhookOutboxRecord> {
    try {
      const { rows } = await this.db.query<OutboxRow>(
        `INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, event, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
        [e.subscriptionId, e.tenantId, e.eventType, e.event, e.at],
      );
      return outboxFromRow(rows[0]!);
    } catch (err) {
      if ((err as { code?: unknown }).code === '23503') {
        throw new RelaygateError('not-found', `no webhook subscription ${e.subscriptionId}`, { details: { id: e.subscriptionId }, cause: err });
      }
      throw postgresFailure(err);
    }
  }

  async enqueueForTenant(e: WebhookTenantEvent): Promise<number> {
    const { rowCount } = await this.db.query(
      `INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, event, created_at, next_attempt_at, dedupe_key)
       SELECT se.subscription_id, se.tenant_id, se.event_type, $1, $2, $2, $3 FROM webhook_subscription_events se WHERE se.tenant_id = $4 AND se.event_type = $5
       ON CONFLICT DO NOTHING`,
      [e.event, e.at, e.dedupeKey, e.tenantId, e.eventType],
    );
    return rowCount ?? 0;
  }

  async getOutbox(id: number): Promise<WebhookOutboxRecord | null> {
    const { rows } = await this.db.query<OutboxRow>('SELECT * FROM webhook_outbox WHERE id = $1', [id]);
    return rows[0] ? outboxFromRow(rows[0]) : null;
  }

  async listOutbox(filter: { subscriptionId?: string; tenantId?: string; limit: number }): Promise<WebhookOutboxRecord[]> {
    const { rows } = filter.subscriptionId !== undefined
      ? await this.db.query<OutboxRow>('SELECT * FROM webhook_outbox WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2', [filter.subscriptionId, filter.limit])
      : filter.tenantId !== undefined
        ? await this.db.query<OutboxRow>('SELECT * FROM webhook_outbox WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2', [filter.tenantId, filter.limit])
        : await this.db.query<OutboxRow>('SELECT * FROM webhook_outbox ORDER BY id DESC LIMIT $1', [filter.limit]);
    return rows.map(outboxFromRow);
  }

  async claim(r: WebhookClaimRequest): Promise<ClaimedWebhook[]> {
    const { rows } = await this.db.query<ClaimedRow>(
      `WITH due AS (
         SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE webhook_outbox o SET lease_owner = $2, lease_until = $3, lease_generation = o.lease_generation + 1 FROM due WHERE o.id = due.id RETURNING o.*
       )
       SELECT leased.*, s.url, s.secret, s.previous_secret, s.previous_secret_until FROM leased JOIN webhook_subscriptions s ON s.id = leased.subscription_id
       ORDER BY leased.next_attempt_at, leased.id`,
      [r.now, r.node, r.now + r.leaseMs, r.limit],
    );
    return rows.map(claimedFromRow);
  }

  async record(o: WebhookOutcome): Promise<boolean> {
    const { rows } = await this.db.query<{ id: number }>(
      `WITH moved AS (
         UPDATE webhook_outbox SET state = $1, attempts = $2, next_attempt_at = COALESCE($3, next_attempt_at), last_status = $4, last_error = $5,
           finished_at = $6, lease_owner = NULL, lease_until = NULL
         WHERE id = $7 AND lease_owner = $8 AND lease_generation = $9 AND state = 'pending' RETURNING id
       )
       INSERT INTO webhook_attempts (outbox_id, at, attempt, outcome, status_code, duration_ms, error)
       SELECT id, $10, $2, $11, $4, $12, $5 FROM moved RETURNING outbox_id AS id`,
      [stateAfter(o.outcome), o.attempt, o.nextAttemptAt ?? null, o.statusCode, o.error, o.outcome === 'retry' ? null : o.at, o.id, o.node, o.generation,
        o.at, o.outcome, Math.round(o.durationMs)],
    );
    return rows.length > 0;
  }

  async replay(id: number, now: number): Promise<WebhookOutboxRecord | null> {
    const { rows } = await this.db.query<OutboxRow>(
      `UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL,
         lease_owner = NULL, lease_until = NULL, lease_generation = lease_generation + 1
       WHERE id = $2 RETURNING *`,
      [now, id],
    );
    return rows[0] ? outboxFromRow(rows[0]) : null;
  }

  async attempts(outboxId: number): Promise<StoredWebhookAttempt[]> {
    const { rows } = await this.db.query<AttemptRow>(`${ATTEMPT_SELECT} WHERE a.outbox_id = $1 ORDER BY a.id`, [outboxId]);
    return rows.map(attemptFromRow);
  }

  async backlog(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>("SELECT count(*) AS n FROM webhook_outbox WHERE state = 'pending'");
    return rows[0]?.n ?? 0;
  }
}
