/**
 * The trace table as both SQL adapters keep it (the same columns on SQLite and PostgreSQL): an
 * event's context in columns, one per search field (with the address domains beside the
 * addresses), and its kind's own fields as JSON in `detail`. The mapping, the search and the story
 * are written here once; each adapter only runs the SQL (`?` placeholders) and writes rows its way.
 */
import { domainOf, domainPartOf } from '../core/address.js';
import { RelaygateError } from '../core/errors.js';
import { isTraceEventKind, traceContextKeys, type TraceContext, type TraceEvent } from '../trace/events.js';
import type { StoredTraceEvent, TraceFilter, TracePage } from './ports.js';

export const TRACE_COLUMNS = [
  'at', 'kind', 'status', 'tenant_id', 'tenant', 'session_id', 'tx_no', 'queue_id', 'client_ip', 'connector', 'cert_name', 'sender',
  'sender_domain', 'recipient', 'recipient_domain', 'message_id_header', 'reason', 'rule_set', 'detail',
] as const;

export type TraceColumn = (typeof TRACE_COLUMNS)[number];

export interface TraceRow {
  id: number;
  at: number;
  kind: string;
  status: string | null;
  tenant_id: string | null;
  tenant: string | null;
  session_id: string | null;
  tx_no: number | null;
  queue_id: string | null;
  client_ip: string | null;
  connector: string | null;
  cert_name: string | null;
  sender: string | null;
  sender_domain: string | null;
  recipient: string | null;
  recipient_domain: string | null;
  message_id_header: string | null;
  reason: string | null;
  rule_set: string | null;
  detail: string;
}

export type TraceInsert = Omit<TraceRow, 'id'>;

/** The lower-case domain an address is searched by; null for none (the null sender). */
function searchDomain(address: string | null): string | null {
  if (address === null || address === '') return null;
  return domainOf(address) ?? (domainPartOf(address).toLowerCase() || null);
}

/** The row an event is stored as. */
export function traceInsert(event: TraceEvent): TraceInsert {
  const detail: Record<string, unknown> = { ...event };
  for (const key of [...traceContextKeys, 'kind']) delete detail[key];
  return {
    at: event.at,
    kind: event.kind,
    status: event.status,
    tenant_id: event.tenantId,
    tenant: event.tenant,
    session_id: event.sessionId,
    tx_no: event.transaction,
    queue_id: event.queueId,
    client_ip: event.clientIp,
    connector: event.connector,
    cert_name: event.certName,
    sender: event.sender,
    sender_domain: searchDomain(event.sender),
    recipient: event.recipient,
    recipient_domain: searchDomain(event.recipient),
    message_id_header: event.messageIdHeader,
    reason: event.reason,
    rule_set: event.ruleSet,
    detail: JSON.stringify(detail),
  };
}

/** The event a row holds: the columns over the kind's own fields. */
export function fromTraceRow(row: TraceRow): StoredTraceEvent {
  if (!isTraceEventKind(row.kind)) throw new RelaygateError('internal', `trace event ${row.id} has an unknown kind ${row.kind}`);
  const context: TraceContext = {
    at: Number(row.at),
    tenantId: row.tenant_id,
    tenant: row.tenant,
    sessionId: row.session_id,
    transaction: row.tx_no === null ? null : Number(row.tx_no),
    queueId: row.queue_id,
    clientIp: row.client_ip,
    connector: row.connector,
    certName: row.cert_name,
    sender: row.sender,
    recipient: row.recipient,
    messageIdHeader: row.message_id_header,
    status: row.status as TraceContext['status'],
    reason: row.reason,
    ruleSet: row.rule_set as TraceContext['ruleSet'],
  };
  // The detail is what traceInsert wrote for this kind: the stored event is the event appended.
  return { ...(JSON.parse(row.detail) as object), kind: row.kind, ...context, id: Number(row.id) } as StoredTraceEvent;
}

/** Runs one query with `?` placeholders and returns its rows. */
export type TraceQuery = (sql: string, args: readonly unknown[]) => Promise<TraceRow[]>;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

export function encodeCursor(row: Pick<TraceRow, 'at' | 'id'>): string {
  return `${Number(row.at)}.${Number(row.id)}`;
}

function decodeCursor(cursor: string): { at: number; id: number } {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor);
  if (!m) throw new RelaygateError('invalid', `not a trace cursor: ${cursor}`, { details: { field: 'cursor' } });
  return { at: Number(m[1]), id: Number(m[2]) };
}

/** The WHERE clauses of a filter, with their arguments in order. */
export function traceWhere(filter: TraceFilter): { clauses: string[]; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    clauses.push(`${column} = ?`);
    args.push(value);
  };
  const lowerEq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    clauses.push(`lower(${column}) = lower(?)`);
    args.push(value);
  };
  const anyOf = (column: string, values: readonly string[] | undefined): void => {
    if (values === undefined) return;
    if (values.length === 0) {
      clauses.push('1 = 0');
      return;
    }
    clauses.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    args.push(...values);
  };
  eq('tenant_id', filter.tenantId);
  lowerEq('sender', filter.sender);
  eq('sender_domain', filter.senderDomain?.toLowerCase());
  lowerEq('recipient', filter.recipient);
  eq('recipient_domain', filter.recipientDomain?.toLowerCase());
  eq('message_id_header', filter.messageIdHeader);
  eq('queue_id', filter.queueId);
  eq('session_id', filter.sessionId);
  eq('client_ip', filter.clientIp);
  lowerEq('connector', filter.connector);
  lowerEq('cert_name', filter.certName);
  anyOf('status', filter.status);
  anyOf('kind', filter.kind);
  eq('reason', filter.reason);
  eq('rule_set', filter.ruleSet);
  if (filter.from !== undefined) {
    clauses.push('at >= ?');
    args.push(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push('at < ?');
    args.push(filter.to);
  }
  return { clauses, args };
}

/** One page of matching events, newest first, after the cursor. */
export async function searchTrace(query: TraceQuery, filter: TraceFilter, page: { cursor?: string | null; limit?: number } = {}): Promise<TracePage> {
  const limit = page.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit <= 0 || limit > MAX_LIMIT) {
    throw new RelaygateError('invalid', `the page size must be a whole number from 1 to ${MAX_LIMIT}`, { details: { field: 'limit' } });
  }
  const { clauses, args } = traceWhere(filter);
  if (page.cursor) {
    const c = decodeCursor(page.cursor);
    clauses.push('(at < ? OR (at = ? AND id < ?))');
    args.push(c.at, c.at, c.id);
  }
  const rows = await query(
    `SELECT * FROM trace_events ${clauses.length ? 'WHERE ' + clauses.join(' AND ') : ''} ORDER BY at DESC, id DESC LIMIT ?`,
    [...args, limit + 1],
  );
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return { events: shown.map(fromTraceRow), next: more ? encodeCursor(shown[shown.length - 1]!) : null };
}

const STORY_LIMIT = 10_000;

/**
 * One message's or one session's events, oldest first (see TraceStore.story). The DSNs a message
 * caused are followed one step: their delivery belongs to the story.
 */
export async function traceStory(query: TraceQuery, id: string): Promise<StoredTraceEvent[]> {
  const byId = new Map<number, TraceRow>();
  const add = (rows: TraceRow[]): void => {
    for (const r of rows) byId.set(Number(r.id), r);
  };
  const ofQueue = (queueIds: string[]): Promise<TraceRow[]> =>
    queueIds.length === 0 ? Promise.resolve([]) : query(`SELECT * FROM trace_events WHERE queue_id IN (${queueIds.map(() => '?').join(', ')}) ORDER BY at, id LIMIT ?`, [...queueIds, STORY_LIMIT]);

  const messageRows = await ofQueue([id]);
  let queueIds: string[];
  if (messageRows.length > 0) {
    add(messageRows);
    queueIds = [id];
    const transactions = new Map<string, number | null>();
    for (const r of messageRows) if (r.session_id !== null && !transactions.has(r.session_id)) transactions.set(r.session_id, r.tx_no);
    for (const [session, tx] of transactions) {
      add(
        await query(
          `SELECT * FROM trace_events WHERE session_id = ? AND (kind = 'connected' OR (queue_id IS NULL AND tx_no = ?)) ORDER BY at, id LIMIT ?`,
          [session, tx === null ? -1 : Number(tx), STORY_LIMIT],
        ),
      );
    }
  } else {
    const sessionRows = await query('SELECT * FROM trace_events WHERE session_id = ? ORDER BY at, id LIMIT ?', [id, STORY_LIMIT]);
    if (sessionRows.length === 0) return [];
    add(sessionRows);
    queueIds = [...new Set(sessionRows.map((r) => r.queue_id).filter((q): q is string => q !== null))];
    add(await ofQueue(queueIds));
  }
  const dsnIds = [...byId.values()]
    .filter((r) => r.kind === 'dsn-queued')
    .map((r) => (JSON.parse(r.detail) as { dsnQueueId?: unknown }).dsnQueueId)
    .filter((q): q is string => typeof q === 'string' && !queueIds.includes(q));
  add(await ofQueue([...new Set(dsnIds)]));
  return [...byId.values()].sort((a, b) => Number(a.at) - Number(b.at) || Number(a.id) - Number(b.id)).map(fromTraceRow);
}
