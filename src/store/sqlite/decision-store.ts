import type { DecisionFilter, DecisionRecord, DecisionScanFilter, DecisionStore, ScannedDecision, StoredDecision } from '../ports.js';
import { keysetPages, RemedyParser, SCANNED_COLUMNS, toDecision, toScannedDecision, type DecisionRow, type ScannedDecisionRow } from '../decision-rows.js';
import type { SqliteDatabase } from './database.js';

/** The `decisions` table: written in the acceptor's group commit, read by trace and reports. */
export class SqliteDecisionStore implements DecisionStore {
  private readonly insertStmt;
  private readonly remedies = new RemedyParser();
  constructor(private readonly db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT INTO decisions (at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from,
        recipient, verdict, reply, rule_set, current_verdict, legacy_verdict, certificate_name, header_from_domain, remedies, steps)
       VALUES (@at, @sessionId, @messageId, @clientIp, @tenantId, @tenant, @connector, @attribution, @mailFrom,
        @recipient, @verdict, @reply, @ruleSet, @currentVerdict, @legacyVerdict, @certificateName, @headerFromDomain, @remedies, @steps)`,
    );
  }

  /** Inserts inside the caller's transaction (the queue's commit of an AcceptBatch). */
  insertMany(decisions: readonly DecisionRecord[]): void {
    for (const d of decisions) this.insertStmt.run({ ...d, remedies: JSON.stringify(d.remedies) });
  }

  async append(decisions: readonly DecisionRecord[]): Promise<void> {
    this.db.transaction(() => this.insertMany(decisions)).immediate();
  }

  async list(filter: DecisionFilter = {}): Promise<StoredDecision[]> {
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: filter.limit ?? 100 };
    for (const [key, column] of [['sessionId', 'session_id'], ['messageId', 'message_id'], ['tenantId', 'tenant_id']] as const) {
      const value = filter[key];
      if (value === undefined) continue;
      where.push(`${column} = @${key}`);
      args[key] = value;
    }
    if (filter.before !== undefined) {
      where.push('id < @before');
      args.before = filter.before;
    }
    const sql = `SELECT * FROM decisions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(args) as DecisionRow[]).map((r) => toDecision(r, this.remedies));
  }

  async count(filter: DecisionScanFilter = {}): Promise<number> {
    const { where, args } = scanWhere(filter);
    return (this.db.prepare(`SELECT count(*) AS n FROM decisions ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`).get(args) as { n: number }).n;
  }

  scan(filter: DecisionScanFilter = {}): AsyncIterable<ScannedDecision[]> {
    const db = this.db;
    return (async function* () {
      const { where, args } = scanWhere(filter);
      const matching = where.length ? `WHERE ${where.join(' AND ')}` : '';
      // Two subqueries, so that each can use an index on its own (one aggregate per query).
      const bounds = db
        .prepare(`SELECT (SELECT min(id) FROM decisions ${matching}) AS "from", (SELECT max(id) FROM decisions ${matching}) AS "to"`)
        .get(args) as { from: number | null; to: number | null };
      const page = db.prepare(
        `SELECT ${SCANNED_COLUMNS} FROM decisions WHERE id > @after AND id <= @to ${where.length ? 'AND ' + where.join(' AND ') : ''} ORDER BY id LIMIT @limit`,
      );
      const remedies = new RemedyParser();
      const range = bounds.from === null || bounds.to === null ? null : { from: bounds.from, to: bounds.to };
      yield* keysetPages(filter, range, async (after, limit) =>
        (page.all({ ...args, after, to: range!.to, limit }) as ScannedDecisionRow[]).map((r) => toScannedDecision(r, remedies)),
      );
    })();
  }
}

function scanWhere(filter: DecisionScanFilter): { where: string[]; args: Record<string, unknown> } {
  const where: string[] = [];
  const args: Record<string, unknown> = {};
  if (filter.tenantId !== undefined) {
    where.push('tenant_id = @tenantId');
    args.tenantId = filter.tenantId;
  }
  if (filter.since !== undefined) {
    where.push('at >= @since');
    args.since = filter.since;
  }
  if (filter.until !== undefined) {
    where.push('at < @until');
    args.until = filter.until;
  }
  for (const [key, column] of [['currentVerdicts', 'current_verdict'], ['legacyVerdicts', 'legacy_verdict']] as const) {
    const values = filter[key];
    if (values === undefined) continue;
    where.push(`${column} IN (SELECT value FROM json_each(@${key}))`);
    args[key] = JSON.stringify(values);
  }
  return { where, args };
}
