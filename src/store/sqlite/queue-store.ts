import type { AcceptBatch, AcceptedMessage, QueueStore } from '../ports.js';
import { sqliteFailure, statement, type SqliteDatabase } from './database.js';
import { SqliteDecisionStore } from './decision-store.js';
import { tickBatcher } from './tick-batcher.js';
import { SqliteDeliveryQueue } from './delivery-store.js';
import { SqliteTraceStore } from './trace-store.js';
import { TENANT_ID_IF_KNOWN } from './delivery-rows.js';

/**
 * The queue on SQLite: the accept side here (one transaction per group-commit round, so many
 * sessions' messages share the WAL fsync, and that transaction also carries the delivery outcomes
 * recorded in the same turn: tick-batcher.ts, which resolves `commit()` only once the WAL holding
 * it is synced to disk), the delivery side in delivery-store.ts.
 */
export class SqliteQueueStore extends SqliteDeliveryQueue implements QueueStore {
  private readonly insertMessage;
  private readonly insertRecipient;
  private readonly decisions: SqliteDecisionStore;
  private readonly traceEvents: SqliteTraceStore;
  private readonly commitTx;
  /** Transactions run so far: the group-commit measurement reads it. */
  transactions = 0;

  constructor(db: SqliteDatabase) {
    super(db);
    this.decisions = new SqliteDecisionStore(db);
    this.traceEvents = new SqliteTraceStore(db);
    this.insertMessage = db.prepare(
      `INSERT INTO messages (id, kind, tenant_id, tenant, connector, attribution, directionality, mail_from, env_id, ret,
        body_type, smtputf8, size, client_ip, client_helo, tls, header_from, subject,
        message_id_header, received_at)
       VALUES (@id, 'mail', ${TENANT_ID_IF_KNOWN}, @tenant, @connector, @attribution, @directionality, @mailFrom, @envId, @ret,
        @bodyType, @smtputf8, @size, @clientIp, @clientHelo, @tls, @headerFrom, @subject,
        @messageIdHeader, @receivedAt)`,
    );
    this.insertRecipient = db.prepare(
      `INSERT INTO recipients (message_id, address, domain, notify, orcpt, state, next_attempt_at, last_reply,
        dsn_status, updated_at, verdict)
       VALUES (@messageId, @address, @domain, @notify, @orcpt, @state, @nextAttemptAt, @lastReply, @dsnStatus, @updatedAt, @verdict)`,
    );
    this.commitTx = db.transaction((batch: AcceptBatch) => {
      for (const m of batch.messages) this.insertOne(m);
      this.decisions.insertMany(batch.decisions);
      if (batch.events) this.traceEvents.insertMany(batch.events);
    });
  }

  async commit(batch: AcceptBatch): Promise<void> {
    try {
      // Not durable after all (the WAL's sync failed): the client hears 451, so the messages go.
      const undo = () => {
        for (const m of batch.messages) statement(this.db, 'DELETE FROM messages WHERE id = ?').run(m.id);
      };
      await tickBatcher(this.db).run(() => this.commitTx(batch), undo);
    } catch (err) {
      throw sqliteFailure(err);
    }
    this.transactions++;
  }

  async existingMessages(ids: readonly string[]): Promise<Set<string>> {
    const exists = statement(this.db, 'SELECT 1 FROM messages WHERE id = ?').pluck();
    return new Set(ids.filter((id) => exists.get(id) !== undefined));
  }

  private insertOne(m: AcceptedMessage): void {
    const { recipients, ...row } = m;
    this.insertMessage.run({ ...row, smtputf8: m.smtputf8 ? 1 : 0 });
    for (const r of recipients) {
      this.insertRecipient.run({
        messageId: m.id,
        address: r.address,
        domain: r.domain,
        notify: r.notify,
        orcpt: r.orcpt,
        state: r.state,
        nextAttemptAt: m.receivedAt,
        lastReply: r.lastReply,
        dsnStatus: r.dsnStatus,
        updatedAt: m.receivedAt,
        verdict: r.verdict,
      });
    }
  }
}
