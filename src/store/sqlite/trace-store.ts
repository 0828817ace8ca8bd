/**
 * The trace on SQLite (migration 015; rows and queries: store/trace-rows.ts). Events are inserted
 * inside the caller's transaction by the queue's own write paths (accept commit, delivery outcome,
 * operator action), so they commit with the change they describe and share its fsync. Retention
 * deletes in bounded batches by (kind, at): a pass holds the write lock for one batch at a time.
 */
import type { TraceEvent } from '../../trace/events.js';
import { traceEventKinds } from '../../trace/events.js';
import type { StoredTraceEvent, TraceFilter, TracePage, TracePruneRequest, TracePruneResult, TraceStore } from '../ports.js';
import { TRACE_COLUMNS, searchTrace, traceInsert, traceStory, type TraceQuery, type TraceRow } from '../trace-rows.js';
import { sqliteFailure, statement, type SqliteDatabase } from './database.js';

const COLUMN_LIST = TRACE_COLUMNS.join(', ');
const VALUES = TRACE_COLUMNS.map((c) => `@${c}`).join(', ');

/**
 * What delivery and operators know of a message is its envelope: the session's context (connector,
 * client address, Message-ID, certificate name) is taken from the queued message and its
 * `received` event, so that every event of a message can be found by the same fields.
 */
const FILLED_VALUES = TRACE_COLUMNS.map((c) => {
  if (c === 'connector') return 'COALESCE(@connector, m.connector)';
  if (c === 'client_ip') return 'COALESCE(@client_ip, m.client_ip)';
  if (c === 'message_id_header') return 'COALESCE(@message_id_header, m.message_id_header)';
  if (c === 'cert_name') {
    return "COALESCE(@cert_name, (SELECT r.cert_name FROM trace_events r WHERE r.queue_id = @queue_id AND r.kind = 'received' AND r.at = m.received_at LIMIT 1))";
  }
  return `@${c}`;
}).join(', ');

const INSERT = `INSERT INTO trace_events (${COLUMN_LIST}) VALUES (${VALUES})`;
const INSERT_FILLED = `INSERT INTO trace_events (${COLUMN_LIST}) SELECT ${FILLED_VALUES} FROM (SELECT 1) LEFT JOIN messages m ON m.id = @queue_id`;

export class SqliteTraceStore implements TraceStore {
  private readonly query: TraceQuery;

  constructor(private readonly db: SqliteDatabase) {
    this.query = async (sql, args) => statement(this.db, sql).all(...args) as TraceRow[];
  }

  /** Inserts inside the caller's transaction. */
  insertMany(events: readonly TraceEvent[]): void {
    if (events.length === 0) return;
    const insert = statement(this.db, INSERT);
    for (const e of events) insert.run(traceInsert(e));
  }

  /** Inserts inside the caller's transaction, the message's session context filled in from the queue. */
  insertForMessage(events: readonly TraceEvent[]): void {
    if (events.length === 0) return;
    const insert = statement(this.db, INSERT_FILLED);
    for (const e of events) insert.run(traceInsert(e));
  }

  async append(events: readonly TraceEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      this.db.transaction(() => this.insertMany(events)).immediate();
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  search(filter: TraceFilter, page?: { cursor?: string | null; limit?: number }): Promise<TracePage> {
    return searchTrace(this.query, filter, page);
  }

  story(id: string): Promise<StoredTraceEvent[]> {
    return traceStory(this.query, id);
  }

  async prune(request: TracePruneRequest): Promise<TracePruneResult> {
    let budget = request.batchSize;
    let removed = 0;
    const remove = statement(
      this.db,
      'DELETE FROM trace_events WHERE id IN (SELECT id FROM trace_events WHERE kind = @kind AND at < @cutoff ORDER BY at LIMIT @limit)',
    );
    const due = statement(this.db, 'SELECT 1 FROM trace_events WHERE kind = @kind AND at < @cutoff LIMIT 1').pluck();
    let more = false;
    for (const kind of traceEventKinds) {
      const cutoff = request.now - request.retention[kind];
      if (budget > 0) {
        const n = this.db.transaction(() => remove.run({ kind, cutoff, limit: budget }).changes).immediate();
        removed += n;
        budget -= n;
      }
      if (budget <= 0 && due.get({ kind, cutoff }) !== undefined) more = true;
    }
    return { removed, more };
  }
}
