import type { DecisionFilter, DecisionRecord, DecisionStore, StoredDecision } from '../ports.js';
import type { SqliteDatabase } from './database.js';

interface DecisionRow {
  id: number;
  at: number;
  session_id: string;
  message_id: string | null;
  client_ip: string;
  tenant_id: string | null;
  tenant: string | null;
  connector: string | null;
  attribution: string;
  mail_from: string | null;
  recipient: string | null;
  verdict: string;
  reply: string;
  rule_set: string;
  current_verdict: string;
  legacy_verdict: string;
  steps: string;
}

/** The `decisions` table: written in the acceptor's group commit, read by trace and reports. */
export class SqliteDecisionStore implements DecisionStore {
  private readonly insertStmt;
  constructor(private readonly db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT INTO decisions (at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from,
        recipient, verdict, reply, rule_set, current_verdict, legacy_verdict, steps)
       VALUES (@at, @sessionId, @messageId, @clientIp, @tenantId, @tenant, @connector, @attribution, @mailFrom,
        @recipient, @verdict, @reply, @ruleSet, @currentVerdict, @legacyVerdict, @steps)`,
    );
  }

  /** Inserts inside the caller's transaction (the queue's commit of an AcceptBatch). */
  insertMany(decisions: readonly DecisionRecord[]): void {
    for (const d of decisions) this.insertStmt.run({ ...d });
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
    return (this.db.prepare(sql).all(args) as DecisionRow[]).map(toDecision);
  }
}

function toDecision(r: DecisionRow): StoredDecision {
  return {
    id: r.id,
    at: r.at,
    sessionId: r.session_id,
    messageId: r.message_id,
    clientIp: r.client_ip,
    tenantId: r.tenant_id,
    tenant: r.tenant,
    connector: r.connector,
    attribution: r.attribution as StoredDecision['attribution'],
    mailFrom: r.mail_from,
    recipient: r.recipient,
    verdict: r.verdict,
    reply: r.reply,
    ruleSet: r.rule_set,
    currentVerdict: r.current_verdict,
    legacyVerdict: r.legacy_verdict,
    steps: r.steps,
  };
}
