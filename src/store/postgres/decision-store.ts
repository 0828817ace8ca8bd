/** The decision log on PostgreSQL (migration 005): appended in the acceptor's commit or on its own, read newest first. */
import type { AttributionKind } from '../../policy/types.js';
import type { DecisionFilter, DecisionRecord, DecisionStore, StoredDecision } from '../ports.js';
import type { PgDatabase, PgQueryable } from './database.js';

interface DecisionRow {
  id: number; at: number; session_id: string; message_id: string | null; client_ip: string; tenant_id: string | null; tenant: string | null;
  connector: string | null; attribution: string; mail_from: string | null; recipient: string | null; verdict: string;
  reply: string; rule_set: string; current_verdict: string; legacy_verdict: string; steps: string;
}

/** Inserts the decisions inside the caller's transaction, in one statement, ids in their order. */
export async function insertDecisions(tx: PgQueryable, decisions: readonly DecisionRecord[]): Promise<void> {
  if (decisions.length === 0) return;
  await tx.query(
    `INSERT INTO decisions (at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from, recipient,
       verdict, reply, rule_set, current_verdict, legacy_verdict, steps)
     SELECT d."at", d."sessionId", d."messageId", d."clientIp", d."tenantId", d."tenant", d."connector", d."attribution", d."mailFrom",
       d."recipient", d."verdict", d."reply", d."ruleSet", d."currentVerdict", d."legacyVerdict", d."steps"
     FROM jsonb_to_recordset($1::jsonb) AS d("at" bigint, "sessionId" text, "messageId" text, "clientIp" text,
       "tenantId" text, "tenant" text, "connector" text, "attribution" text, "mailFrom" text, "recipient" text, "verdict" text, "reply" text,
       "ruleSet" text, "currentVerdict" text, "legacyVerdict" text, "steps" text, n bigint)
     ORDER BY d.n`,
    [JSON.stringify(decisions.map((d, n) => ({ ...d, n })))],
  );
}

export class PgDecisionStore implements DecisionStore {
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
    return rows.map(toDecision);
  }
}

function toDecision(r: DecisionRow): StoredDecision {
  return {
    id: r.id, at: r.at, sessionId: r.session_id, messageId: r.message_id, clientIp: r.client_ip, tenantId: r.tenant_id, tenant: r.tenant,
    connector: r.connector, attribution: r.attribution as AttributionKind, mailFrom: r.mail_from, recipient: r.recipient,
    verdict: r.verdict, reply: r.reply, ruleSet: r.rule_set, currentVerdict: r.current_verdict, legacyVerdict: r.legacy_verdict,
    steps: r.steps,
  };
}
