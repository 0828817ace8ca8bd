/**
 * Reading a whole SQLite store as transfer rows (store/transfer.ts), for `relaygate store copy`.
 * Rows are read in batches in one read transaction, so the copy is one consistent snapshot. Lists
 * stored as JSON text become lists; 0/1 become booleans. In-flight recipients are read as queued,
 * due at once and without a lease: the copy runs while no node serves this data, so nobody holds
 * them, and the nodes on the new store claim them at their first pass.
 */
import { TRANSFER_TABLES, transferTables, type TransferBatch, type TransferRow, type TransferTable, type TransferValue } from '../transfer.js';
import type { SqliteDatabase } from './database.js';

/** Where each transfer table is in SQLite's schema, when the names differ. */
const SOURCE: Partial<Record<TransferTable, string>> = { server_secrets: 'delivery_secrets' };

/** Columns SQLite does not keep as such: how to compute them. */
const COMPUTED: Partial<Record<TransferTable, Record<string, string>>> = {
  messages: { outside_recipients: "(SELECT COUNT(*) FROM recipients o WHERE o.message_id = t.id AND o.verdict = 'relay')" },
};

const sourceOf = (table: TransferTable): string => SOURCE[table] ?? table;

function convert(table: TransferTable, raw: Record<string, unknown>): TransferRow {
  const row: TransferRow = {};
  for (const [column, kind] of Object.entries(TRANSFER_TABLES[table])) {
    const v = raw[column];
    let value: TransferValue;
    if (v === null || v === undefined) value = null;
    else if (kind === 'bool') value = v === 1 || v === true;
    else if (kind === 'texts') value = (JSON.parse(String(v)) as unknown[]).map(String);
    else if (kind === 'int') value = Number(v);
    else value = String(v);
    row[column] = value;
  }
  return row;
}

function released(row: TransferRow, now: number): TransferRow {
  if (row.state !== 'inflight') return row;
  return { ...row, state: 'queued', lease_owner: null, lease_until: null, next_attempt_at: Math.min(Number(row.next_attempt_at), now) };
}

/** Every row of every table, in copy order, `size` rows at a time. */
export async function* sqliteTransferBatches(db: SqliteDatabase, now: number, size = 1000): AsyncGenerator<TransferBatch> {
  db.exec('BEGIN');
  try {
    for (const table of transferTables) {
      const columns = Object.keys(TRANSFER_TABLES[table]).map((c) => (COMPUTED[table]?.[c] ? `${COMPUTED[table]![c]} AS ${c}` : `t.${c}`));
      const select = db.prepare(`SELECT t.rowid AS rowid_, ${columns.join(', ')} FROM ${sourceOf(table)} t WHERE t.rowid > ? ORDER BY t.rowid LIMIT ?`);
      for (let after = 0; ; ) {
        const raw = select.all(after, size) as Array<Record<string, unknown> & { rowid_: number }>;
        if (raw.length === 0) break;
        after = raw.at(-1)!.rowid_;
        const rows = raw.map((r) => convert(table, r));
        yield { table, rows: table === 'recipients' ? rows.map((r) => released(r, now)) : rows };
        if (raw.length < size) break;
      }
    }
  } finally {
    db.exec('COMMIT');
  }
}

/** How many rows each table has. */
export function sqliteTransferCounts(db: SqliteDatabase): Record<TransferTable, number> {
  const counts = {} as Record<TransferTable, number>;
  for (const table of transferTables) {
    counts[table] = (db.prepare(`SELECT COUNT(*) AS n FROM ${sourceOf(table)}`).get() as { n: number }).n;
  }
  return counts;
}
