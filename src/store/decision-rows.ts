/**
 * The `decisions` rows as both SQL adapters read them (the same columns on SQLite and PostgreSQL),
 * mapped to the port's records once, and the keyset scan both run over them.
 */
import type { AttributionKind } from '../policy/types.js';
import type { DecisionRemedy, DecisionScanFilter, ScannedDecision, StoredDecision } from './ports.js';

export interface ScannedDecisionRow {
  id: number; at: number; session_id: string; message_id: string | null; client_ip: string; tenant_id: string | null;
  tenant: string | null; connector: string | null; attribution: string; mail_from: string | null; recipient: string | null;
  verdict: string; reply: string; rule_set: string; current_verdict: string; legacy_verdict: string;
  certificate_name: string | null; header_from_domain: string | null; remedies: string;
}

export interface DecisionRow extends ScannedDecisionRow {
  steps: string;
}

/** The columns a scan selects: every one but the steps. */
export const SCANNED_COLUMNS =
  'id, at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from, recipient, verdict, reply, ' +
  'rule_set, current_verdict, legacy_verdict, certificate_name, header_from_domain, remedies';

export const DEFAULT_SCAN_PAGE = 1000;

/**
 * Remedy lists repeat across thousands of rows (the same source keeps sending the same mail): each
 * distinct text is parsed once, in a cache that empties itself when full.
 */
export class RemedyParser {
  private readonly cache = new Map<string, DecisionRemedy[]>();
  constructor(private readonly maxEntries = 1000) {}

  parse(text: string): DecisionRemedy[] {
    const known = this.cache.get(text);
    if (known) return known;
    const parsed = parseRemedies(text);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(text, parsed);
    return parsed;
  }
}

function parseRemedies(text: string): DecisionRemedy[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) return [];
  return value.flatMap((r: unknown) => {
    if (typeof r !== 'object' || r === null) return [];
    const { rank, text: advice } = r as { rank?: unknown; text?: unknown };
    return typeof rank === 'number' && typeof advice === 'string' ? [Object.freeze({ rank, text: advice })] : [];
  });
}

export function toScannedDecision(r: ScannedDecisionRow, remedies: RemedyParser): ScannedDecision {
  return {
    id: Number(r.id), at: Number(r.at), sessionId: r.session_id, messageId: r.message_id, clientIp: r.client_ip, tenantId: r.tenant_id,
    tenant: r.tenant, connector: r.connector, attribution: r.attribution as AttributionKind, mailFrom: r.mail_from,
    recipient: r.recipient, verdict: r.verdict, reply: r.reply, ruleSet: r.rule_set, currentVerdict: r.current_verdict,
    legacyVerdict: r.legacy_verdict, certificateName: r.certificate_name, headerFromDomain: r.header_from_domain,
    remedies: remedies.parse(r.remedies),
  };
}

export function toDecision(r: DecisionRow, remedies: RemedyParser): StoredDecision {
  return { ...toScannedDecision(r, remedies), steps: r.steps };
}

/** The ids a scan covers: the first and the last matching one when it started. */
export interface ScanBounds {
  from: number;
  to: number;
}

/**
 * Keyset pages over the rows in [bounds.from, bounds.to], each read by `page(after, limit)`. Ends on a
 * short page, so a scan never reads past the ids that existed when it began.
 */
export async function* keysetPages(
  filter: DecisionScanFilter,
  bounds: ScanBounds | null,
  page: (after: number, limit: number) => Promise<ScannedDecision[]>,
): AsyncGenerator<ScannedDecision[]> {
  if (bounds === null) return;
  const limit = Math.max(1, Math.floor(filter.pageSize ?? DEFAULT_SCAN_PAGE));
  let after = bounds.from - 1;
  for (;;) {
    const rows = await page(after, limit);
    if (rows.length > 0) yield rows;
    if (rows.length < limit) return;
    after = rows[rows.length - 1]!.id;
  }
}
