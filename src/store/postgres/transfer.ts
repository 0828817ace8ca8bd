/**
 * Writing a whole store's rows (store/transfer.ts) into an empty PostgreSQL store, for `relaygate
 * store copy`: one transaction for all rows, so the copy is there whole or not at all. Ids keep
 * their values (OVERRIDING SYSTEM VALUE) and the id sequences continue after the largest; the
 * revisions are set last, after the settings triggers have run.
 */
import { TRANSFER_TABLES, transferTables, type TransferBatch, type TransferKind, type TransferTable } from '../transfer.js';
import type { PgDatabase, PgQueryable } from './database.js';

const PG_TYPE: Record<TransferKind, string> = { text: 'text', int: 'bigint', bool: 'boolean', texts: 'text[]' };
const REVISIONS: ReadonlySet<TransferTable> = new Set(['directory_state', 'tenant_settings_state']);
const IDENTITIES: ReadonlyArray<[table: string, column: string]> = [['outbound_routes', 'id'], ['recipients', 'id'], ['decisions', 'id'], ['audit_log', 'id'], ['trace_events', 'id'], ['webhook_outbox', 'id'], ['webhook_attempts', 'id']];

/** Whether the store holds nothing a copy could collide with: no tenant, message, decision or body. */
export async function isEmptyForTransfer(db: PgQueryable): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM messages) + (SELECT count(*) FROM decisions) + (SELECT count(*) FROM trace_events)
       + (SELECT count(*) FROM bodies) + (SELECT count(*) FROM server_secrets) AS n`,
  );
  return rows[0]!.n === 0;
}

export async function writeTransferBatches(db: PgDatabase, batches: AsyncIterable<TransferBatch>): Promise<void> {
  await db.transaction(async (tx) => {
    const revisions = new Map<TransferTable, number>();
    for await (const { table, rows } of batches) {
      if (rows.length === 0) continue;
      if (REVISIONS.has(table)) {
        revisions.set(table, Number(rows[0]!.revision));
        continue;
      }
      const columns = Object.entries(TRANSFER_TABLES[table]);
      const names = columns.map(([c]) => c).join(', ');
      await tx.query(
        `INSERT INTO ${table} (${names}) OVERRIDING SYSTEM VALUE
         SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${columns.map(([c, kind]) => `${c} ${PG_TYPE[kind]}`).join(', ')})`,
        [JSON.stringify(rows)],
      );
    }
    for (const [table, column] of IDENTITIES) {
      await tx.query(
        `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), COALESCE(max(${column}), 1), max(${column}) IS NOT NULL) FROM ${table}`,
      );
    }
    for (const [table, revision] of revisions) {
      await tx.query(`UPDATE ${table} SET revision = GREATEST(revision, $1) WHERE id = 1`, [revision]);
    }
  });
}

/** How many rows each table has. */
export async function postgresTransferCounts(db: PgQueryable): Promise<Record<TransferTable, number>> {
  const counts = {} as Record<TransferTable, number>;
  for (const table of transferTables) counts[table] = (await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n;
  return counts;
}
