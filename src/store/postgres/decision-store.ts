/** The decision log on PostgreSQL (migrations 005, 008): appended in the acceptor's commit or on its own, read newest first or scanned in keyset pages. */
import type { DecisionFilter, DecisionRecord, DecisionScanFilter, DecisionStore, ScannedDecision, StoredDecision } from '../ports.js';
import { keysetPages, RemedyParser, SCANNED_COLUMNS, toDecision, toScannedDecision, type DecisionRow, type ScannedDecisionRow } from '../decision-rows.js';
import type { PgDatabase, PgQueryable } from './database.js';

/** Inserts the decisions inside the caller's transaction, in one statement, ids in their order. */
export async function insertDecisions(tx: PgQueryable, decisions: readonly DecisionRecord[]): Promise<void> {
  if (decisions.length === 0) return;
  await tx.query(
    `INSERT INTO decisions (at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from, recipient,
       verdict, reply, rule_set, current_verdict, legacy_verdict, certificate_name, header_from_domain, remedies, steps)
     SELECT d."at", d."sessionId", d."messageId", d."clientIp", d."tenantId", d."tenant", d."connector", d."attribution", d."mailFrom",
       d."recipient", d."verdict", d."reply", d."ruleSet", d."currentVerdict", d."legacyVerdict", d."certificateName", d."headerFromDomain",
       d."remedies", d."steps"
     FROM jsonb_to_recordset($1::jsonb) AS d("at" bigint, "sessionId" text, "messageId" text, "clientIp" text,
       "tenantId" text, "tenant" text, "connector" text, "attribution" text, "mailFrom" text, "recipient" text, "verdict" text, "reply" text,
       "ruleSet" text, "currentVerdict" text, "legacyVerdict" text, "certificateName" text, "headerFromDomain" text, "remedies" text,
       "steps" text, n bigint)
     ORDER BY d.n`,
    [JSON.stringify(decisions.map((d, n) => ({ ...d, remedies: JSON.stringify(d.remedies), n })))],
  );
}

export class PgDecisionStore implements DecisionStore {
  private readonly remedies = new RemedyParser();
  constructor(private readonly db: PgDatabase) {}

  async append(decisions: readonly DecisionRecord[]): Promise<void> {
    await insertDecisions(this.db, decisions);
  }

  async list(filter: DecisionFilter = {}): Promise<StoredDecision[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (filter.sessionId !== undefined) add('session_id = ?', filter.sessionId);
    if (filter.messageId !== undefined) add('message_id = ?', filter.messageId);
    if (filter.tenantId !== undefined) add('tenant_id = ?', filter.tenantId);
    if (filter.before !== undefined) add('id < ?', filter.before);
    args.push(filter.limit ?? 100);
    const { rows } = await this.db.query<DecisionRow>(
      `SELECT * FROM decisions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => toDecision(r, this.remedies));
  }

  async count(filter: DecisionScanFilter = {}): Promise<number> {
    const { where, args } = scanWhere(filter);
    const { rows: [row] } = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM decisions ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`, args);
    return Number(row?.n ?? 0);
  }

  scan(filter: DecisionScanFilter = {}): AsyncIterable<ScannedDecision[]> {
    const db = this.db;
    return (async function* () {
      const { where, args } = scanWhere(filter);
      const matching = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const { rows: [bounds] } = await db.query<{ from: string | null; to: string | null }>(
        `SELECT (SELECT min(id) FROM decisions ${matching}) AS "from", (SELECT max(id) FROM decisions ${matching}) AS "to"`,
        args,
      );
      const n = args.length;
      const sql =
        `SELECT ${SCANNED_COLUMNS} FROM decisions WHERE id > $${n + 1} AND id <= $${n + 2} ${where.length ? 'AND ' + where.join(' AND ') : ''} ` +
        `ORDER BY id LIMIT $${n + 3}`;
      const remedies = new RemedyParser();
      const range = bounds?.from == null || bounds.to == null ? null : { from: Number(bounds.from), to: Number(bounds.to) };
      yield* keysetPages(filter, range, async (after, limit) => {
        const { rows } = await db.query<ScannedDecisionRow>(sql, [...args, after, range!.to, limit]);
        return rows.map((r) => toScannedDecision(r, remedies));
      });
    })();
  }
}

function scanWhere(filter: DecisionScanFilter): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    args.push(value);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (filter.tenantId !== undefined) add('tenant_id = ?', filter.tenantId);
  if (filter.since !== undefined) add('at >= ?', filter.since);
  if (filter.until !== undefined) add('at < ?', filter.until);
  if (filter.currentVerdicts !== undefined) add('current_verdict = ANY(?::text[])', [...filter.currentVerdicts]);
  if (filter.legacyVerdicts !== undefined) add('legacy_verdict = ANY(?::text[])', [...filter.legacyVerdicts]);
  return { where, args };
}
