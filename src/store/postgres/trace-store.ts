/**
 * The trace on PostgreSQL (migration 012: partitioned by day; rows and queries: store/trace-rows.ts).
 * Events are inserted in the caller's transaction or statement by the queue's own write paths, so
 * they commit with the change they describe. Retention keeps a week of partitions ahead, drops a
 * day's partition whole once all of it is due, and deletes the kinds kept for less in bounded
 * batches.
 */
import type { TraceEvent } from '../../trace/events.js';
import { traceEventKinds } from '../../trace/events.js';
import type { StoredTraceEvent, TraceFilter, TracePage, TracePruneRequest, TracePruneResult, TraceStore } from '../ports.js';
import { TRACE_COLUMNS, searchTrace, traceInsert, traceStory, type TraceColumn, type TraceQuery, type TraceRow } from '../trace-rows.js';
import type { PgDatabase, PgQueryable } from './database.js';

export const DAY_MS = 86_400_000;
/** Days of partitions kept made ahead of now. */
const DAYS_AHEAD = 7;
/** "relaygate trace" in ASCII, truncated: the advisory lock partition maintenance holds. */
const PARTITION_LOCK = 0x7472616365;

const COLUMN_TYPES: Record<TraceColumn, string> = {
  at: 'bigint', kind: 'text', status: 'text', tenant_id: 'text', tenant: 'text', session_id: 'text', tx_no: 'integer', queue_id: 'text',
  client_ip: 'text', connector: 'text', cert_name: 'text', sender: 'text', sender_domain: 'text', recipient: 'text', recipient_domain: 'text',
  message_id_header: 'text', reason: 'text', rule_set: 'text', detail: 'text',
};

/** `e(<columns>, n, rid)`: the record type of the JSON the events are passed as. */
const RECORD_TYPE = `e(${TRACE_COLUMNS.map((c) => `${c} ${COLUMN_TYPES[c]}`).join(', ')}, n bigint, rid bigint)`;

/**
 * The select list of an insert from `e` (and `m`, the queued message, when `filled`): delivery
 * and operators know a message by its envelope, so the session's context (connector, client
 * address, Message-ID, certificate name) comes from the message and its `received` event.
 */
function selectList(filled: boolean): string {
  return TRACE_COLUMNS.map((c) => {
    if (!filled) return `e.${c}`;
    if (c === 'connector' || c === 'client_ip' || c === 'message_id_header') return `COALESCE(e.${c}, m.${c})`;
    if (c === 'cert_name') {
      return `COALESCE(e.cert_name, (SELECT r.cert_name FROM trace_events r WHERE r.queue_id = e.queue_id AND r.kind = 'received' AND r.at = m.received_at LIMIT 1))`;
    }
    return `e.${c}`;
  }).join(', ');
}

const COLUMN_LIST = TRACE_COLUMNS.join(', ');

/** The events as the JSON parameter of an insert; `rid`: the recipient an event belongs to, if it matters. */
export function traceParameter(events: ReadonlyArray<{ event: TraceEvent; rid?: number }>): string {
  return JSON.stringify(events.map(({ event, rid }, n) => ({ ...traceInsert(event), n, rid: rid ?? null })));
}

/** An INSERT of the events in parameter `$param`; with `filled`, the message's context filled in. */
export function traceInsertSql(param: string, filled: boolean, join = ''): string {
  return `INSERT INTO trace_events (${COLUMN_LIST})
    SELECT ${selectList(filled)} FROM jsonb_to_recordset(${param}::jsonb) AS ${RECORD_TYPE} ${join}
    ${filled ? 'LEFT JOIN messages m ON m.id = e.queue_id' : ''} ORDER BY e.n`;
}

/** Inserts the events inside the caller's transaction, in one statement, ids in their order. */
export async function insertTraceEvents(tx: PgQueryable, events: readonly TraceEvent[], filled = false): Promise<void> {
  if (events.length === 0) return;
  await tx.query(traceInsertSql('$1', filled), [traceParameter(events.map((event) => ({ event })))]);
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export class PgTraceStore implements TraceStore {
  private readonly query: TraceQuery;

  constructor(private readonly db: PgDatabase) {
    this.query = async (sql, args) => (await this.db.query<TraceRow>(numbered(sql), [...args])).rows;
  }

  async append(events: readonly TraceEvent[]): Promise<void> {
    await insertTraceEvents(this.db, events);
  }

  search(filter: TraceFilter, page?: { cursor?: string | null; limit?: number }): Promise<TracePage> {
    return searchTrace(this.query, filter, page);
  }

  story(id: string): Promise<StoredTraceEvent[]> {
    return traceStory(this.query, id);
  }

  /** Makes the day partitions from `from`'s day to `to`'s, those missing; returns how many it made. */
  async ensurePartitions(from: number, to: number): Promise<number> {
    const first = Math.floor(from / DAY_MS) * DAY_MS;
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      let made = 0;
      for (let day = first; day <= to; day += DAY_MS) {
        const { rows } = await tx.query<{ made: boolean }>('SELECT trace_events_ensure_day($1) AS made', [day]);
        if (rows[0]?.made) made++;
      }
      return made;
    });
  }

  /** The day partitions with the UTC day each starts, oldest first. */
  async partitions(): Promise<Array<{ name: string; day: number }>> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'trace_events'::regclass AND c.relname LIKE 'trace\\_events\\_p%' ORDER BY c.relname`,
    );
    return rows.flatMap((r) => {
      const m = /^trace_events_p(\d{4})(\d{2})(\d{2})$/.exec(r.name);
      return m ? [{ name: r.name, day: Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) }] : [];
    });
  }

  async prune(request: TracePruneRequest): Promise<TracePruneResult> {
    await this.ensurePartitions(request.now, request.now + DAYS_AHEAD * DAY_MS);
    let removed = 0;
    // A day whose end is past the longest retention holds nothing any kind keeps: dropped whole.
    const keepFrom = request.now - Math.max(...traceEventKinds.map((k) => request.retention[k]));
    for (const p of await this.partitions()) {
      if (p.day + DAY_MS > keepFrom) break;
      removed += await this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
        // Dropping a partition locks the parent briefly; never queue behind a long statement for it.
        await tx.query("SET LOCAL lock_timeout = '2s'");
        const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${quoteIdent(p.name)}`);
        await tx.query(`DROP TABLE ${quoteIdent(p.name)}`);
        return rows[0]?.n ?? 0;
      });
    }
    let budget = request.batchSize;
    let more = false;
    for (const kind of traceEventKinds) {
      const cutoff = request.now - request.retention[kind];
      if (budget > 0) {
        const { rowCount } = await this.db.query(
          `DELETE FROM trace_events WHERE (at, id) IN (SELECT at, id FROM trace_events WHERE kind = $1 AND at < $2 ORDER BY at LIMIT $3)`,
          [kind, cutoff, budget],
        );
        removed += rowCount ?? 0;
        budget -= rowCount ?? 0;
      }
      if (budget <= 0) {
        const { rows } = await this.db.query('SELECT 1 FROM trace_events WHERE kind = $1 AND at < $2 LIMIT 1', [kind, cutoff]);
        if (rows.length > 0) more = true;
      }
    }
    return { removed, more };
  }
}

function quoteIdent(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a partition name: ${name}`);
  return `"${name}"`;
}
