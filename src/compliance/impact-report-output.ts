import { RelaygateError } from '../core/errors.js';
import type { RecipientVerdict } from '../policy/types.js';
import type { ImpactGroup, ImpactKind } from './impact-grouping.js';
import type { ImpactQuery, ImpactReportItem, ImpactTotals } from './impact-report.js';

/**
 * The live impact report's renderings. JSON and CSV are written as the items arrive (a group per
 * line or record, the totals last), so the CLI and the admin API can stream them; the table for
 * people holds the groups (capped) to print the totals first.
 */
export interface TextSink {
  write(text: string): unknown;
}

const IMPACT_TEXT: Record<ImpactKind, string> = {
  'legacy-only': 'passes only by From: (legacy rule)',
  'newly-refused': 'refused now, passed before',
};

const VERDICT_TEXT: Record<RecipientVerdict, string> = {
  relay: 'relay',
  internal: 'internal',
  inbound: 'inbound',
  rejected: 'REFUSED',
  pending: 'if From: accepted',
};

/** A verdict in JSON and CSV: the engine's word, except `pending`, said as what it means. */
function verdictValue(v: RecipientVerdict | null): string | null {
  return v === 'pending' ? VERDICT_TEXT.pending : v;
}

export function impactGroupJson(g: ImpactGroup): Record<string, unknown> {
  return {
    impact: g.impact,
    source: g.source,
    sourceKind: g.sourceKind,
    sourceIps: g.sourceIps,
    moreSourceIps: g.moreSourceIps,
    certificateName: g.certificateName,
    tenant: g.tenant,
    connector: g.connector,
    attribution: g.attribution,
    p1Domain: g.p1Domain,
    p2Domain: g.p2Domain,
    verdictApplied: verdictValue(g.verdictApplied),
    verdictNow: verdictValue(g.verdictNow),
    verdictBefore: verdictValue(g.verdictBefore),
    decisions: g.messages,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    remedies: g.remedies,
  };
}

/** One JSON document: `{ "query": ..., "groups": [ ... ], "totals": ... }`, a group per line. */
export async function writeImpactJson(query: ImpactQuery, items: AsyncIterable<ImpactReportItem>, out: TextSink): Promise<ImpactTotals> {
  // Written once the first item is in (the groups come after the whole scan), not while a progress bar may still be drawn.
  let groups = 0;
  for await (const item of items) {
    const opening = groups === 0 && item.kind === 'group' ? `{"query":${JSON.stringify(query)},"groups":[\n` : '';
    if (item.kind === 'totals') {
      const start = groups === 0 ? `{"query":${JSON.stringify(query)},"groups":[` : '\n';
      out.write(`${start}],"totals":${JSON.stringify(item.totals)}}\n`);
      return item.totals;
    }
    out.write(`${opening}${groups > 0 ? ',\n' : ''}${JSON.stringify(impactGroupJson(item.group))}`);
    groups++;
  }
  throw new RelaygateError('internal', 'the impact report ended without its totals');
}

export const IMPACT_CSV_HEADER = [
  'Impact', 'Source', 'SourceKind', 'SourceIPs', 'Tenant', 'Connector', 'Attribution', 'P1Domain', 'P2Domain',
  'VerdictApplied', 'VerdictNow', 'VerdictBefore20231101', 'Decisions', 'FirstSeen', 'LastSeen', 'Remedy',
];

export function impactCsvRecord(g: ImpactGroup): string {
  return [
    g.impact ?? '', g.source, g.sourceKind, g.sourceIps.join(' ') + (g.moreSourceIps ? ' ...' : ''), g.tenant ?? '', g.connector ?? '',
    g.attribution, g.p1Domain, g.p2Domain ?? '', verdictValue(g.verdictApplied) ?? '', verdictValue(g.verdictNow) ?? '',
    verdictValue(g.verdictBefore) ?? '', String(g.messages), g.firstSeen, g.lastSeen, remedyText(g),
  ]
    .map(csvField)
    .join(',');
}

/** RFC 4180 CSV, a header and a record per group; the totals are not part of it. */
export async function writeImpactCsv(items: AsyncIterable<ImpactReportItem>, out: TextSink): Promise<ImpactTotals> {
  let header = IMPACT_CSV_HEADER.join(',') + '\r\n';
  for await (const item of items) {
    if (item.kind === 'totals') {
      out.write(header);
      return item.totals;
    }
    out.write(header + impactCsvRecord(item.group) + '\r\n');
    header = '';
  }
  throw new RelaygateError('internal', 'the impact report ended without its totals');
}

export function csvField(v: string): string {
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function remedyText(g: ImpactGroup): string {
  return g.remedies.map((r) => `[${r.rank}] ${r.text}`).join(' ');
}

function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

function sourceText(g: ImpactGroup): string {
  if (g.sourceKind === 'ip') return g.source;
  return `${g.source} (${g.sourceIps.join(', ')}${g.moreSourceIps ? ', ...' : ''})`;
}

/** The table for people: what was read, then the groups, then each group's remedies. */
export async function writeImpactTable(query: ImpactQuery, items: AsyncIterable<ImpactReportItem>, out: TextSink): Promise<ImpactTotals> {
  const groups: ImpactGroup[] = [];
  let totals: ImpactTotals | null = null;
  for await (const item of items) {
    if (item.kind === 'totals') totals = item.totals;
    else groups.push(item.group);
  }
  if (totals === null) throw new RelaygateError('internal', 'the impact report ended without its totals');
  const lines: string[] = [];
  const who = query.tenant ? `tenant ${query.tenant.name ?? query.tenant.id}` : 'all tenants';
  lines.push(`Impact of the 2023-11 relay rule, ${who}, ${query.since} to ${query.until}: ${count(totals.decisions, 'decision', 'decisions')} recorded.`);
  if (totals.legacyOnly + totals.newlyRefused === 0) {
    lines.push('Nothing here passes only because of the legacy rule, and nothing refused now passed before.');
    out.write(lines.join('\n') + '\n');
    return totals;
  }
  lines.push(
    `Passing only because of the legacy rule (the header From is accepted): ${totals.legacyOnly.toLocaleString('en-US')}. ` +
      `Refused now that passed before (or would have, with an accepted From:): ${totals.newlyRefused.toLocaleString('en-US')}.`,
  );
  if (totals.ungrouped > 0) lines.push(`${count(totals.ungrouped, 'decision', 'decisions')} counted in no group: more than ${totals.groups.toLocaleString('en-US')} groups.`);
  lines.push('');
  const head = ['#', 'Impact', 'Source', 'Tenant', 'Connector', 'P1 domain', 'P2 domain', 'Now (2023-11)', 'Before 2023-11-01', 'Decisions', 'First seen', 'Last seen', 'Remedy'];
  const rows = groups.map((g, i) => [
    String(i + 1),
    g.impact ? IMPACT_TEXT[g.impact] : '-',
    sourceText(g),
    g.tenant ?? '-',
    g.connector ?? '-',
    g.p1Domain,
    g.p2Domain ?? '?',
    VERDICT_TEXT[g.verdictNow],
    VERDICT_TEXT[g.verdictBefore],
    String(g.messages),
    g.firstSeen,
    g.lastSeen,
    g.remedies.map((r) => r.rank).join(', ') || '-',
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((v, c) => (c === 9 ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd();
  lines.push(line(head), line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) lines.push(line(r));
  const withRemedies = groups.map((g, i) => ({ g, i })).filter(({ g }) => g.remedies.length > 0);
  if (withRemedies.length > 0) {
    lines.push('', 'Remedies (relay-policy §6, in order of preference):');
    for (const { g, i } of withRemedies) {
      lines.push(`  #${i + 1} ${sourceText(g)}, P1 ${g.p1Domain}${g.p2Domain ? `, P2 ${g.p2Domain}` : ''}:`);
      for (const r of g.remedies) lines.push(`     ${r.rank}. ${r.text}`);
    }
  }
  out.write(lines.join('\n') + '\n');
  return totals;
}
