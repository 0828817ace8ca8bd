/**
 * The queue on PostgreSQL (rules: src/queue/states.ts; tables: migration 005), shared by every node.
 *
 * Acceptance: one transaction per group-commit round holds the round's messages, their recipients
 * and decisions; `commit()` resolves once it committed, and only then does the client get its 250.
 * A message whose tenant the directory no longer has (removed after the decision) is stored with a
 * null tenant id rather than failing the round.
 *
 * Delivery: a claim is one statement that picks due recipients in due order with FOR UPDATE SKIP
 * LOCKED (nodes claiming at once take disjoint rows, none waits for another) and leases them to the
 * owner, incrementing each lease's generation, which goes back to the caller with each recipient
 * (the fencing token). An outcome applies only while the recipient is still in flight under that
 * owner and generation; a lease that ran out and was claimed again has a new generation, so the
 * late outcome changes nothing.
 */
import { RelaygateError } from '../../core/errors.js';
import { assertTransition } from '../../queue/states.js';
import type { AcceptBatch, ClaimedWork, DeliveryQueue, GeneratedMessage, LeaseToken, MessageWork, QueueStore, RecipientOutcome } from '../ports.js';
import type { PgDatabase, PgQueryable } from './database.js';
import { insertDecisions } from './decision-store.js';
import type { TraceEvent } from '../../trace/events.js';
import { insertTraceEvents, traceInsertSql, traceParameter } from './trace-store.js';
import { toClaimed, toRecipient, withMessages, type RecipientRow } from './queue-rows.js';

const FINAL = ['delivered', 'failed', 'expired'];

export class PgQueueStore implements QueueStore, DeliveryQueue {
  constructor(private readonly db: PgDatabase) {}

  // ---- acceptance ----

  async commit(batch: AcceptBatch): Promise<void> {
    await this.db.transaction(async (tx) => {
      await insertMessages(tx, batch);
      await insertDecisions(tx, batch.decisions);
      if (batch.events) await insertTraceEvents(tx, batch.events);
    });
  }

  async existingMessages(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1::text[])', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  // ---- delivery ----

  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedWork[]> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<RecipientRow>(
        `WITH due AS (
           SELECT id FROM recipients
           WHERE state IN ('queued', 'deferred', 'inflight') AND next_attempt_at <= $1 AND (state <> 'inflight' OR lease_until <= $1)
           ORDER BY next_attempt_at, id
           LIMIT $4
           FOR UPDATE SKIP LOCKED
         )
         UPDATE recipients r SET state = 'inflight', lease_owner = $2, lease_until = $1 + $3::bigint,
           lease_generation = r.lease_generation + 1, updated_at = $1
         FROM due WHERE r.id = due.id
         RETURNING r.*`,
        [now, owner, leaseMs, limit],
      );
      rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
      return withMessages(tx, rows, toClaimed);
    });
  }

  async record(owner: string, outcomes: readonly RecipientOutcome[], now: number): Promise<number> {
    for (const o of outcomes) assertTransition('inflight', o.state);
    if (outcomes.length === 0) return 0;
    // The outcomes' trace is inserted by the same statement, for the recipients the update applied to.
    const events = outcomes.flatMap((o) => (o.events ?? []).map((event) => ({ event, rid: o.id })));
    const update = `UPDATE recipients r SET state = o.state, last_reply = COALESCE(o.reply, r.last_reply),
         last_remote_mta = CASE WHEN o.reply IS NULL THEN r.last_remote_mta ELSE o.remote END,
         attempts = r.attempts + CASE WHEN o.attempted THEN 1 ELSE 0 END,
         last_attempt_at = CASE WHEN o.attempted THEN $2 ELSE r.last_attempt_at END,
         next_attempt_at = COALESCE(o.next, r.next_attempt_at), dsn_status = COALESCE(o.dsn, r.dsn_status),
         lease_owner = NULL, lease_until = NULL, updated_at = $2
       FROM jsonb_to_recordset($3::jsonb) AS o(id bigint, generation bigint, state text, reply text, remote text, attempted boolean, next bigint, dsn text)
       WHERE r.id = o.id AND r.state = 'inflight' AND r.lease_owner = $1 AND r.lease_generation = o.generation
       RETURNING r.id`;
    const sql = events.length === 0
      ? update
      : `WITH applied AS (${update}), traced AS (${traceInsertSql('$4', true, 'JOIN applied ON applied.id = e.rid')} RETURNING 1) SELECT id FROM applied`;
    const { rows } = await this.db.query<{ id: number }>(
      sql,
      [
        owner,
        now,
        JSON.stringify(
          outcomes.map((o) => ({
            id: o.id, generation: o.generation, state: o.state, reply: o.reply, remote: o.remoteMta ?? null, attempted: o.attempted,
            next: o.nextAttemptAt ?? null, dsn: o.dsnStatus ?? null,
          })),
        ),
        ...(events.length === 0 ? [] : [traceParameter(events)]),
      ],
    );
    return rows.length;
  }

  /** Extends these live leases (a long pass) while they carry their token; the generation stays: the claim's token still holds. */
  async renewLeases(owner: string, leases: readonly LeaseToken[], now: number, leaseMs: number): Promise<number> {
    if (leases.length === 0) return 0;
    const { rowCount } = await this.db.query(
      `UPDATE recipients r SET lease_until = $3 FROM unnest($4::bigint[], $5::bigint[]) AS l(id, generation)
       WHERE r.id = l.id AND r.lease_generation = l.generation AND r.state = 'inflight' AND r.lease_owner = $1 AND r.lease_until > $2`,
      [owner, now, now + leaseMs, leases.map((l) => l.id), leases.map((l) => l.generation)],
    );
    return rowCount ?? 0;
  }

  /**
   * At start: this owner's in-flight recipients (its previous run's) are due again at once. A run
   * that is in fact still alive, paused, loses them: the claims that follow bump the generation, so
   * its outcomes are refused.
   */
  async releaseLeases(owner: string, now: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE recipients SET state = 'queued', lease_owner = NULL, lease_until = NULL,
         next_attempt_at = LEAST(next_attempt_at, $2), updated_at = $2 WHERE state = 'inflight' AND lease_owner = $1`,
      [owner, now],
    );
    return rowCount ?? 0;
  }

  async owedDsns(limit: number): Promise<MessageWork[]> {
    const { rows } = await this.db.query<RecipientRow>(
      "SELECT * FROM recipients WHERE dsn_status = 'owed' ORDER BY message_id, id LIMIT $1",
      [limit],
    );
    return withMessages(this.db, rows, toRecipient);
  }

  async delayNoticesDue(receivedBefore: number, limit: number): Promise<MessageWork[]> {
    const { rows } = await this.db.query<RecipientRow>(
      `SELECT r.* FROM recipients r JOIN messages m ON m.id = r.message_id
       WHERE r.state = 'deferred' AND NOT r.delayed_dsn_sent AND m.received_at <= $1 ORDER BY r.message_id, r.id LIMIT $2`,
      [receivedBefore, limit],
    );
    return withMessages(this.db, rows, toRecipient);
  }

  /**
   * Marks the recipients reported on and queues the DSN in one transaction, all or nothing: when
   * another node has reported on any of them in the meantime, this one changes nothing (and its
   * DSN is not queued), so two nodes never send the sender two notices for one recipient.
   */
  async enqueueDsn(
    dsn: GeneratedMessage | null, reportedOn: readonly number[], kind: 'failure' | 'delay', suppressed: readonly number[], events: readonly TraceEvent[] = [],
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const mark = (ids: readonly number[], status: string): Promise<number> =>
        (kind === 'failure'
          ? tx.query("UPDATE recipients SET dsn_status = $2 WHERE id = ANY($1::bigint[]) AND dsn_status = 'owed'", [ids, status])
          : tx.query('UPDATE recipients SET delayed_dsn_sent = true WHERE id = ANY($1::bigint[]) AND NOT delayed_dsn_sent', [ids])
        ).then((r) => r.rowCount ?? 0);
      const marked = reportedOn.length === 0 ? 0 : await mark(reportedOn, 'sent');
      if (marked < new Set(reportedOn).size) throw new AlreadyReported();
      if (suppressed.length > 0) await mark(suppressed, 'suppressed');
      if (dsn) await insertDsn(tx, dsn, kind);
      await insertTraceEvents(tx, events, true);
    }).catch((err: unknown) => {
      if (!(err instanceof AlreadyReported)) throw err;
    });
  }

  async completedMessages(limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT m.id FROM messages m
       WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND (r.state <> ALL($1::text[]) OR r.dsn_status = 'owed'))
       ORDER BY m.id LIMIT $2`,
      [FINAL, limit],
    );
    return rows.map((r) => r.id);
  }

  async deleteMessages(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.db.query('DELETE FROM messages WHERE id = ANY($1::text[])', [ids]);
  }
}

/** Another node reported on a recipient first: the transaction is rolled back and nothing is queued. */
class AlreadyReported extends RelaygateError {
  constructor() {
    super('conflict', 'another node reported on these recipients first');
    this.name = 'AlreadyReported';
  }
}

async function insertMessages(tx: PgQueryable, batch: AcceptBatch): Promise<void> {
  if (batch.messages.length === 0) return;
  await tx.query(
    `INSERT INTO messages (id, kind, tenant_id, tenant, connector, attribution, directionality, mail_from, env_id, ret, body_type,
       smtputf8, size, client_ip, client_helo, tls, header_from, subject, message_id_header, received_at, outside_recipients)
     SELECT m."id", 'mail', (SELECT t.id FROM tenants t WHERE t.id = m."tenantId"), m."tenant", m."connector", m."attribution", m."directionality", m."mailFrom", m."envId", m."ret",
       m."bodyType", m."smtputf8", m."size", m."clientIp", m."clientHelo", m."tls", m."headerFrom", m."subject",
       m."messageIdHeader", m."receivedAt", m."outside"
     FROM jsonb_to_recordset($1::jsonb) AS m("id" text, "tenantId" text, "tenant" text, "connector" text, "attribution" text,
       "directionality" text, "mailFrom" text, "envId" text, "ret" text, "bodyType" text, "smtputf8" boolean, "size" bigint,
       "clientIp" text, "clientHelo" text, "tls" text, "headerFrom" text, "subject" text, "messageIdHeader" text,
       "receivedAt" bigint, "outside" integer)`,
    [JSON.stringify(batch.messages.map(({ recipients, ...m }) => ({ ...m, outside: recipients.filter((r) => r.verdict === 'relay').length })))],
  );
  const recipients = batch.messages.flatMap((m) =>
    m.recipients.map((r) => ({
      n: 0,
      messageId: m.id, address: r.address, domain: r.domain, notify: r.notify, orcpt: r.orcpt, verdict: r.verdict, state: r.state,
      lastReply: r.lastReply, dsnStatus: r.dsnStatus, at: m.receivedAt,
    })),
  );
  recipients.forEach((r, n) => (r.n = n));
  if (recipients.length === 0) return;
  await tx.query(
    `INSERT INTO recipients (message_id, address, domain, notify, orcpt, verdict, state, next_attempt_at, last_reply, dsn_status, updated_at)
     SELECT r."messageId", r."address", r."domain", r."notify", r."orcpt", r."verdict", r."state", r."at", r."lastReply", r."dsnStatus", r."at"
     FROM jsonb_to_recordset($1::jsonb) AS r("messageId" text, "address" text, "domain" text, "notify" text,
       "orcpt" text, "verdict" text, "state" text, "lastReply" text, "dsnStatus" text, "at" bigint, n bigint)
     ORDER BY r.n`,
    [JSON.stringify(recipients)],
  );
}

async function insertDsn(tx: PgQueryable, dsn: GeneratedMessage, kind: 'failure' | 'delay'): Promise<void> {
  const m = dsn.message;
  await tx.query(
    `INSERT INTO messages (id, kind, tenant_id, tenant, connector, attribution, directionality, mail_from, env_id, ret, body_type,
       smtputf8, size, header_from, subject, received_at, outside_recipients)
     VALUES ($1, 'dsn', (SELECT t.id FROM tenants t WHERE t.id = $11), $2, NULL, $3, $4, '', NULL, NULL, $5, $6, $7, $8, $9, $10, 0)`,
    [m.id, m.tenant, m.attribution, m.directionality, m.bodyType, m.smtputf8, m.size, m.headerFrom,
      kind === 'failure' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)', m.receivedAt, m.tenantId],
  );
  if (dsn.recipients.length === 0) return;
  await tx.query(
    `INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at)
     SELECT $1, r.address, r.domain, 'queued', $2, $2
     FROM jsonb_to_recordset($3::jsonb) AS r(address text, domain text, n bigint) ORDER BY r.n`,
    [m.id, m.receivedAt, JSON.stringify(dsn.recipients.map((r, n) => ({ ...r, n })))],
  );
}
