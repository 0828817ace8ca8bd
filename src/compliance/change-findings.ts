/**
 * What a change to the directory brings to light: the tenant audit (audit.ts) of each tenant the
 * changes touch, scoped to what changed. A change to a connector can bring items about that
 * connector; a change to the tenant itself or to its accepted domains can change what any of its
 * connectors relays, so items about all of them and the tenant's own. Of those, only the items the
 * audit of the directory before the change did not have: what the change brought, not what was
 * already there. Never a reason to refuse the change: the directory is valid, these are warnings
 * before the first refused message.
 */
import type { Directory, DirectoryChange } from '../directory/index.js';
import { buildSnapshot } from '../policy/index.js';
import { auditTenant, type AuditItem } from './audit.js';

/** One item of the audit, about a connector the change touched (or the whole tenant). */
export interface ChangeFinding {
  /** Null for a finding about the whole tenant. */
  connector: string | null;
  /** `refused-now` for a kind of mail the connector now refuses, else the engine's finding code. */
  code: string;
  text: string;
  /** For a refusal: the findings on the same connector that explain it (also not listed again on their own). */
  because: Array<{ code: string; text: string }>;
}

export interface TenantChangeFindings {
  tenant: string;
  findings: ChangeFinding[];
}

/** The findings that say why a connector's mail is refused (the others are advice, not causes). */
const EXPLAINS_REFUSAL = new Set(['certificate-name-not-accepted']);

/**
 * The audit findings the `changes` from `before` to `after` brought, for the tenants they touch,
 * in the order of `after`; tenants with nothing to report are left out. For a dry run `after` is
 * the directory that would be written.
 */
export function changeFindings(before: Directory, after: Directory, changes: readonly DirectoryChange[], at: Date): TenantChangeFindings[] {
  const touched = touchedConnectors(changes);
  if (touched.size === 0) return [];
  const snapshot = buildSnapshot(after);
  const previous = buildSnapshot(before);
  const out: TenantChangeFindings[] = [];
  for (const tenant of after.tenants) {
    const key = tenant.name.toLowerCase();
    if (!touched.has(key)) continue;
    const scope = touched.get(key)!;
    const old = before.tenants.find((t) => t.name.toLowerCase() === key);
    const known = new Set(old ? auditTenant(previous, old, at).toActOn.map(itemKey) : []);
    const items = auditTenant(snapshot, tenant, at).toActOn.filter((i) =>
      i.connector === null ? scope === null : scope === null || scope.has(i.connector.toLowerCase()),
    );
    const findings = withCauses(items).filter((f) => !known.has(itemKey(f)) || f.because.some((b) => !known.has(itemKey({ ...b, connector: f.connector }))));
    if (findings.length > 0) out.push({ tenant: tenant.name, findings });
  }
  return out;
}

function itemKey(i: { connector: string | null; code: string; text: string }): string {
  return JSON.stringify([i.connector?.toLowerCase() ?? null, i.code, i.text]);
}

/** Refusals first carry the findings that explain them; every other item is listed once, in audit order. */
function withCauses(items: readonly AuditItem[]): ChangeFinding[] {
  const explained = new Set<AuditItem>();
  const causes = new Map<AuditItem, AuditItem[]>();
  for (const item of items) {
    if (item.kind !== 'refusal') continue;
    const why = items.filter((f) => f.kind === 'finding' && f.connector === item.connector && EXPLAINS_REFUSAL.has(f.code));
    causes.set(item, why);
    for (const f of why) explained.add(f);
  }
  const seen = new Set<string>();
  return items
    .filter((i) => !explained.has(i))
    // A list with the same range twice gives the same finding twice: say it once.
    .filter((i) => !seen.has(itemKey(i)) && seen.add(itemKey(i)) !== undefined)
    .map((i) => ({
      connector: i.connector,
      code: i.code,
      text: i.text,
      because: (causes.get(i) ?? []).map((f) => ({ code: f.code, text: f.text })),
    }));
}

/**
 * Per tenant (lower case) the connectors (lower case) the changes touch; null when a change to the
 * tenant or its domains can change what any of its connectors relays. A removed connector has
 * nothing left to audit: it is not there any more, so the filter finds nothing for it.
 */
function touchedConnectors(changes: readonly DirectoryChange[]): Map<string, Set<string> | null> {
  const touched = new Map<string, Set<string> | null>();
  for (const c of changes) {
    const key = c.tenant.toLowerCase();
    if (c.entity !== 'connector') touched.set(key, null);
    else if (touched.get(key) !== null) touched.set(key, (touched.get(key) ?? new Set<string>()).add(c.name.toLowerCase()));
  }
  return touched;
}
