/**
 * Webhooks on SQLite (migration 017). The outbox is filled by triggers on trace_events inside the
 * transaction that appends the event; this adapter keeps the subscriptions and their event index,
 * and runs the worker's claims and outcomes as short IMMEDIATE transactions.
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
import { sqliteFailure, statement, type SqliteDatabase } from './database.js';

function constraintFailure(err: unknown, what: Record<string, unknown>): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new RelaygateError('not-found', 'no such tenant', { details: { field: 'tenant', ...what }, cause: err });
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return new RelaygateError('conflict', 'a subscription with this id exists', { details: what, cause: err });
  return sqliteFailure(err);
}

export class SqliteWebhookStore implements WebhookStore {
  constructor(private readonly db: SqliteDatabase) {}

  private writeEvents(s: Pick<WebhookSubscriptionRecord, 'id' | 'tenantId' | 'eventTypes' | 'enabled'>): void {
    statement(this.db, 'DELETE FROM webhook_subscription_events WHERE subscription_id = ?').run(s.id);
    if (!s.enabled) return;
    const insert = statement(this.db, 'INSERT INTO webhook_subscription_events (tenant_id, event_type, subscription_id) VALUES (?, ?, ?)');
    for (const type of s.eventTypes) insert.run(s.tenantId, type, s.id);
  }

  async createSubscription(s: WebhookSubscriptionRecord): Promise<void> {
    try {
      this.db.transaction(() => {
        statement(
          this.db,
          `INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, secret, previous_secret, previous_secret_until, enabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(s.id, s.tenantId, s.url, JSON.stringify(s.eventTypes), s.secret, s.previousSecret, s.previousSecretUntil, s.enabled ? 1 : 0, s.createdAt, s.updatedAt);
        this.writeEvents(s);
      }).immediate();
    } catch (err) {
      throw constraintFailure(err, { id: s.id });
    }
  }

  async getSubscription(id: string): Promise<WebhookSubscriptionRecord | null> {
    const row = statement(this.db, 'SELECT * FROM webhook_subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
    return row ? subscriptionFromRow(row) : null;
  }

  async listSubscriptions(filter: { tenantId?: string } = {}): Promise<WebhookSubscriptionRecord[]> {
    const rows = (filter.tenantId === undefined
      ? statement(this.db, 'SELECT * FROM webhook_subscriptions ORDER BY id').all()
      : statement(this.db, 'SELECT * FROM webhook_subscriptions WHERE tenant_id = ? ORDER BY id').all(filter.tenantId)) as SubscriptionRow[];
    return rows.map(subscriptionFromRow);
  }

  async updateSubscription(id: string, patch: WebhookSubscriptionPatch): Promise<WebhookSubscriptionRecord | null> {
    return this.db.transaction(() => {
      const row = statement(this.db, 'SELECT * FROM webhook_subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
      if (!row) return null;
      const next: WebhookSubscriptionRecord = { ...subscriptionFromRow(row), ...patch };
      statement(
        this.db,
        `UPDATE webhook_subscriptions SET url = ?, event_types = ?, secret = ?, previous_secret = ?, previous_secret_until = ?, enabled = ?, updated_at = ?
         WHERE id = ?`,
      ).run(next.url, JSON.stringify(next.eventTypes), next.secret, next.previousSecret, next.previousSecretUntil, next.enabled ? 1 : 0, next.updatedAt, id);
      if (patch.eventTypes !== undefined || patch.enabled !== undefined) this.writeEvents(next);
      return next;
    }).immediate();
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return statement(this.db, 'DELETE FROM webhook_subscriptions WHERE id = ?').run(id).changes > 0;
  }

  async enqueue(e: WebhookEnqueue): Promise<WebhookOutboxRecord> {
    try {
      const row = statement(
        this.db,
        `INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, event, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
      ).get(e.subscriptionId, e.tenantId, e.eventType, e.event, e.at, e.at) as OutboxRow;
      return outboxFromRow(row);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new RelaygateError('not-found', `no webhook subscription ${e.subscriptionId}`, { details: { id: e.subscriptionId }, cause: err });
      }
      throw sqliteFailure(err);
    }
  }

  async enqueueForTenant(e: WebhookTenantEvent): Promise<number> {
    return statement(
      this.db,
      `INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, event, created_at, next_attempt_at, dedupe_key)
       SELECT se.subscription_id, se.tenant_id, se.event_type, ?, ?, ?, ? FROM webhook_subscription_events se WHERE se.tenant_id = ? AND se.event_type = ?
       ON CONFLICT DO NOTHING`,
    ).run(e.event, e.at, e.at, e.dedupeKey, e.tenantId, e.eventType).changes;
  }

  async getOutbox(id: number): Promise<WebhookOutboxRecord | null> {
    const row = statement(this.db, 'SELECT * FROM webhook_outbox WHERE id = ?').get(id) as OutboxRow | undefined;
    return row ? outboxFromRow(row) : null;
  }

  async listOutbox(filter: { subscriptionId?: string; tenantId?: string; limit: number }): Promise<WebhookOutboxRecord[]> {
    const rows = (filter.subscriptionId !== undefined
      ? statement(this.db, 'SELECT * FROM webhook_outbox WHERE subscription_id = ? ORDER BY id DESC LIMIT ?').all(filter.subscriptionId, filter.limit)
      : filter.tenantId !== undefined
        ? statement(this.db, 'SELECT * FROM webhook_outbox WHERE tenant_id = ? ORDER BY id DESC LIMIT ?').all(filter.tenantId, filter.limit)
        : statement(this.db, 'SELECT * FROM webhook_outbox ORDER BY id DESC LIMIT ?').all(filter.limit)) as OutboxRow[];
    return rows.map(outboxFromRow);
  }

  async claim(r: WebhookClaimRequest): Promise<ClaimedWebhook[]> {
    return this.db.transaction(() => {
      const ids = statement(
        this.db,
        `SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
         ORDER BY next_attempt_at, id LIMIT ?`,
      ).pluck().all(r.now, r.now, r.limit) as number[];
      const lease = statement(
        this.db,
        'UPDATE webhook_outbox SET lease_owner = ?, lease_until = ?, lease_generation = lease_generation + 1 WHERE id = ?',
      );
      const read = statement(
        this.db,
        `SELECT o.*, s.url, s.secret, s.previous_secret, s.previous_secret_until FROM webhook_outbox o
         JOIN webhook_subscriptions s ON s.id = o.subscription_id WHERE o.id = ?`,
      );
      return ids.map((id) => {
        lease.run(r.node, r.now + r.leaseMs, id);
        return claimedFromRow(read.get(id) as ClaimedRow);
      });
    }).immediate();
  }

  async record(o: WebhookOutcome): Promise<boolean> {
    return this.db.transaction(() => {
      const changed = statement(
        this.db,
        `UPDATE webhook_outbox SET state = ?, attempts = ?, next_attempt_at = COALESCE(?, next_attempt_at), last_status = ?, last_error = ?,
           finished_at = ?, lease_owner = NULL, lease_until = NULL
         WHERE id = ? AND lease_owner = ? AND lease_generation = ? AND state = 'pending'`,
      ).run(stateAfter(o.outcome), o.attempt, o.nextAttemptAt ?? null, o.statusCode, o.error, o.outcome === 'retry' ? null : o.at, o.id, o.node, o.generation).changes;
      if (changed === 0) return false;
      statement(
        this.db,
        'INSERT INTO webhook_attempts (outbox_id, at, attempt, outcome, status_code, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(o.id, o.at, o.attempt, o.outcome, o.statusCode, Math.round(o.durationMs), o.error);
      return true;
    }).immediate();
  }

  async replay(id: number, now: number): Promise<WebhookOutboxRecord | null> {
    const row = statement(
      this.db,
      `UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL,
         lease_owner = NULL, lease_until = NULL, lease_generation = lease_generation + 1
       WHERE id = ? RETURNING *`,
    ).get(now, id) as OutboxRow | undefined;
    return row ? outboxFromRow(row) : null;
  }

  async attempts(outboxId: number): Promise<StoredWebhookAttempt[]> {
    const rows = statement(this.db, `${ATTEMPT_SELECT} WHERE a.outbox_id = ? ORDER BY a.id`).all(outboxId) as AttemptRow[];
    return rows.map(attemptFromRow);
  }

  async backlog(): Promise<number> {
    return statement(this.db, "SELECT count(*) FROM webhook_outbox WHERE state = 'pending'").pluck().get() as number;
  }
}
