/**
 * The delivery side of the queue on SQLite (rules: src/queue/states.ts). Claims lease recipients
 * in one IMMEDIATE transaction, so two schedulers on the same file never claim the same recipient;
 * each claim gives the lease a new generation, and outcomes apply only while the caller still holds
 * the lease under that generation (the fencing token it got with the claim). Outcomes recorded in
 * the same turn of the event loop, by all delivery connections and acceptance, share one commit
 * (tick-batcher.ts).
 */
import type {
  ClaimedWork, DeliveryQueue, GeneratedMessage, LeaseToken, MessageWork, QueuedMessage, QueuedRecipient, RecipientOutcome,
} from '../ports.js';
import { assertTransition } from '../../queue/states.js';
import type { TraceEvent } from '../../trace/events.js';
import { statement, type SqliteDatabase } from './database.js';
import { tickBatcher } from './tick-batcher.js';
import { SqliteTraceStore } from './trace-store.js';
import { MESSAGE_COLUMNS, RECIPIENT_COLUMNS, TENANT_ID_IF_KNOWN, toClaimed, toMessage, toRecipient, type MessageRow, type RecipientRow } from './delivery-rows.js';

const inList = (states: readonly string[]): string => states.map((s) => `'${s}'`).join(', ');
const FINAL = ['delivered', 'failed', 'expired'];

export class SqliteDeliveryQueue implements DeliveryQueue {
  private readonly trace: SqliteTraceStore;

  constructor(protected readonly db: SqliteDatabase) {
    this.trace = new SqliteTraceStore(db);
  }

  /** Groups recipient rows by message, each mapped by `map`, loading each message once. */
  private withMessages<Row extends RecipientRow, R extends QueuedRecipient>(rows: Row[], map: (row: Row) => R): Array<MessageWork<R>> {
    const byMessage = new Map<string, R[]>();
    for (const r of rows) {
      const list = byMessage.get(r.message_id) ?? [];
      list.push(map(r));
      byMessage.set(r.message_id, list);
    }
    const get = this.db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?`);
    const out: Array<MessageWork<R>> = [];
    for (const [id, recipients] of byMessage) {
      const row = get.get(id) as MessageRow | undefined;
      if (row) out.push({ message: toMessage(row), recipients });
    }
    return out;
  }

  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedWork[]> {
    const claim = this.db.transaction(() => {
      const ids = this.db
        .prepare(
          `SELECT id FROM (
             SELECT id, next_attempt_at FROM recipients WHERE state = 'queued' AND next_attempt_at <= @now
             UNION ALL
             SELECT id, next_attempt_at FROM recipients WHERE state = 'deferred' AND next_attempt_at <= @now
             UNION ALL
             SELECT id, next_attempt_at FROM recipients WHERE state = 'inflight' AND lease_until <= @now
           ) ORDER BY next_attempt_at, id LIMIT @limit`,
        )
        .pluck()
        .all({ now, limit }) as number[];
      const lease = this.db.prepare(
        `UPDATE recipients SET state = 'inflight', lease_owner = @owner, lease_until = @until, lease_generation = lease_generation + 1, updated_at = @now
         WHERE id = @id RETURNING ${RECIPIENT_COLUMNS.replaceAll('r.', '')}, lease_generation`,
      );
      return ids.map((id) => lease.get({ id, owner, until: now + leaseMs, now }) as RecipientRow & { lease_generation: number });
    });
    return this.withMessages(claim.immediate(), toClaimed);
  }

  /** Outcomes of concurrent transactions share one commit (tick-batcher.ts). */
  async record(owner: string, outcomes: readonly RecipientOutcome[], now: number): Promise<number> {
    for (const o of outcomes) assertTransition('inflight', o.state);
    if (outcomes.length === 0) return 0;
    return tickBatcher(this.db).run(() => this.applyOutcomes(owner, outcomes, now));
  }

  /** Within the batch's transaction. */
  private applyOutcomes(owner: string, outcomes: readonly RecipientOutcome[], now: number): number {
    const update = statement(
      this.db,
      `UPDATE recipients SET state = @state, last_reply = COALESCE(@reply, last_reply),
         last_remote_mta = CASE WHEN @reply IS NULL THEN last_remote_mta ELSE @remote END,
         attempts = attempts + @attempted, last_attempt_at = CASE WHEN @attempted = 1 THEN @now ELSE last_attempt_at END,
         next_attempt_at = COALESCE(@next, next_attempt_at), dsn_status = COALESCE(@dsn, dsn_status),
         lease_owner = NULL, lease_until = NULL, updated_at = @now
       WHERE id = @id AND state = 'inflight' AND lease_owner = @owner AND lease_generation = @generation`,
    );
    let applied = 0;
    for (const o of outcomes) {
      const changed = update.run({
        id: o.id, generation: o.generation, owner, now, state: o.state, reply: o.reply, attempted: o.attempted ? 1 : 0,
        next: o.nextAttemptAt ?? null, dsn: o.dsnStatus ?? null, remote: o.remoteMta ?? null,
      }).changes;
      // The trace of an outcome that did not apply (the lease passed on) would tell what never happened.
      if (changed > 0 && o.events) this.trace.insertForMessage(o.events);
      applied += changed;
    }
    return applied;
  }

  async renewLeases(owner: string, leases: readonly LeaseToken[], now: number, leaseMs: number): Promise<number> {
    const renew = statement(
      this.db,
      `UPDATE recipients SET lease_until = @until
       WHERE id = @id AND lease_generation = @generation AND state = 'inflight' AND lease_owner = @owner AND lease_until > @now`,
    );
    return this.db.transaction(() => leases.reduce((n, l) => n + renew.run({ id: l.id, generation: l.generation, owner, now, until: now + leaseMs }).changes, 0)).immediate();
  }

  async releaseLeases(owner: string, now: number): Promise<number> {
    return statement(
      this.db,
      `UPDATE recipients SET state = 'queued', lease_owner = NULL, lease_until = NULL, next_attempt_at = MIN(next_attempt_at, @now), updated_at = @now
       WHERE state = 'inflight' AND lease_owner = @owner`,
    ).run({ owner, now }).changes;
  }

  async owedDsns(limit: number): Promise<MessageWork[]> {
    const rows = this.db
      .prepare(`SELECT ${RECIPIENT_COLUMNS} FROM recipients r WHERE r.dsn_status = 'owed' ORDER BY r.message_id, r.id LIMIT ?`)
      .all(limit) as RecipientRow[];
    return this.withMessages(rows, toRecipient);
  }

  async delayNoticesDue(receivedBefore: number, limit: number): Promise<MessageWork[]> {
    const rows = this.db
      .prepare(
        // From the messages old enough (messages_received_at) to their recipients (CROSS JOIN keeps
        // that order, +r.state keeps SQLite off the state index): never every deferred recipient.
        `SELECT ${RECIPIENT_COLUMNS} FROM messages m CROSS JOIN recipients r ON r.message_id = m.id
         WHERE m.received_at <= ? AND +r.state = 'deferred' AND r.delayed_dsn_sent = 0 ORDER BY r.message_id, r.id LIMIT ?`,
      )
      .all(receivedBefore, limit) as RecipientRow[];
    return this.withMessages(rows, toRecipient);
  }

  async enqueueDsn(
    dsn: GeneratedMessage | null, reportedOn: readonly number[], kind: 'failure' | 'delay', suppressed: readonly number[], events: readonly TraceEvent[] = [],
  ): Promise<void> {
    const insertMessage = this.db.prepare(
      `INSERT INTO messages (id, kind, tenant_id, tenant, connector, attribution, directionality, mail_from, env_id, ret, body_type,
         smtputf8, size, header_from, subject, received_at)
       VALUES (@id, 'dsn', ${TENANT_ID_IF_KNOWN}, @tenant, NULL, @attribution, @directionality, '', NULL, NULL, @bodyType, @smtputf8, @size,
         @headerFrom, @subject, @receivedAt)`,
    );
    const insertRecipient = this.db.prepare(
      `INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, dsn_status, updated_at)
       VALUES (?, ?, ?, 'queued', ?, NULL, ?)`,
    );
    const mark =
      kind === 'failure'
        ? this.db.prepare(`UPDATE recipients SET dsn_status = @status WHERE id = @id AND dsn_status = 'owed'`)
        : this.db.prepare(`UPDATE recipients SET delayed_dsn_sent = 1 WHERE id = @id`);
    this.db.transaction(() => {
      if (dsn) {
        const m: QueuedMessage = dsn.message;
        insertMessage.run({
          id: m.id, tenantId: m.tenantId, tenant: m.tenant, attribution: m.attribution, directionality: m.directionality, bodyType: m.bodyType,
          smtputf8: m.smtputf8 ? 1 : 0, size: m.size, headerFrom: m.headerFrom,
          subject: kind === 'failure' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)',
          receivedAt: m.receivedAt,
        });
        for (const r of dsn.recipients) insertRecipient.run(m.id, r.address, r.domain, m.receivedAt, m.receivedAt);
      }
      for (const id of reportedOn) mark.run({ id, status: 'sent' });
      for (const id of suppressed) mark.run({ id, status: 'suppressed' });
      this.trace.insertForMessage(events);
    }).immediate();
  }

  async completedMessages(limit: number): Promise<string[]> {
    return this.db
      .prepare(
        // Candidates are the messages with a recipient in a final state (found by the state index),
        // not every message in the queue: a pass does not grow with the messages still waiting.
        // Every message has a recipient (acceptance and DSNs never queue one without).
        `SELECT DISTINCT f.message_id FROM recipients f
         WHERE f.state IN (${inList(FINAL)})
           AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = f.message_id
             AND (r.state NOT IN (${inList(FINAL)}) OR r.dsn_status = 'owed'))
         ORDER BY f.message_id LIMIT ?`,
      )
      .pluck()
      .all(limit) as string[];
  }

  async deleteMessages(ids: readonly string[]): Promise<void> {
    const del = statement(this.db, 'DELETE FROM messages WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) del.run(id);
    })();
  }
}
