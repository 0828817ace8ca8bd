import type { DecisionRecord } from '../../queue/accept-types.js';
import type { SqliteDatabase } from './database.js';

/** A stored decision with its row id, as the trace and the impact report read it. */
export interface StoredDecision extends DecisionRecord {
  id: number;
}

interface DecisionRow {
  id: number;
  at: number;
  session_id: string;
  message_id: string | null;
  client_ip: string;
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
export class SqliteDecisionStore {
  private readonly insertStmt;
  constructor(private readonly db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT INTO decisions (at, session_id, message_id, client_ip, tenant, connector, attribution, mail_from,
        recipient, verdict, reply, rule_set, current_verdict, legacy_verdict, steps)
       VALUES (@at, @sessionId, @messageId, @clientIp, @tenant, @connector, @attribution, @mailFrom,
        @recipient, @verdict, @reply, @ruleSet, @currentVerdict, @legacyVerdict, @steps)`,
    );
  }

  /** Inserts inside the caller's transaction (or its own statement-level one). */
  insertMany(decisions: readonly DecisionRecord[]): void {
    for (const d of decisions) this.insertStmt.run({ ...d });
  }

  /** Newest first; `sessionId` or `messageId` narrow it down. */
  list(filter: { sessionId?: string; messageId?: string; limit?: number } = {}): StoredDecision[] {
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: filter.limit ?? 100 };
    if (filter.sessionId) {
      where.push('session_id = @sessionId');
      args.sessionId = filter.sessionId;
    }
    if (filter.messageId) {
      where.push('message_id = @messageId');
      args.messageId = filter.messageId;
    }
    const sql = `SELECT * FROM decisions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(args) as DecisionRow[]).map(toDecision);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n;
  }
}

function toDecision(r: DecisionRow): StoredDecision {
  return {
    id: r.id,
    at: r.at,
    sessionId: r.session_id,
    messageId: r.message_id,
    clientIp: r.client_ip,
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
