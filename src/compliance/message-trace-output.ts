import type { RecipientVerdict } from '../policy/types.js';
import type { ImpactGroup } from './impact-grouping.js';
import type { MessageTraceReport } from './message-trace.js';

/** The three renderings of a message trace check: a table for people, JSON and CSV for machines. */

const VERDICT_TEXT: Record<RecipientVerdict, string> = {
  relay: 'relay',
  internal: 'internal',
  inbound: 'inbound',
  rejected: 'REFUSED',
  pending: 'if From: accepted',
};

/**
 * A verdict in JSON and CSV: the engine's word, except `pending`, which only says something
 * inside relaygate: there, as in the table, what it means (passed only if the From: header was accepted).
 */
function verdictValue(v: RecipientVerdict): string {
  return v === 'pending' ? VERDICT_TEXT.pending : v;
}

function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export function messageTraceJson(report: MessageTraceReport): string {
  return JSON.stringify(
    {
      tenant: report.tenant,
      rows: report.rows,
      evaluated: report.evaluated,
      skippedNoSourceIp: report.skippedNoSourceIp,
      refusedNow: report.refusedNow,
      newlyRefused: report.newlyRefused,
      groups: report.groups.map((g) => ({
        sourceIp: g.sourceIp,
        p1Domain: g.p1Domain,
        tenant: g.tenant,
        connector: g.connector,
        attribution: g.attribution,
        verdictNow: verdictValue(g.verdictNow),
        verdictBefore: verdictValue(g.verdictBefore),
        messages: g.messages,
        firstSeen: g.firstSeen,
        lastSeen: g.lastSeen,
        remedies: g.remedies,
      })),
    },
    null,
    2,
  ) + '\n';
}

const CSV_HEADER = ['SourceIP', 'P1Domain', 'Tenant', 'Connector', 'Attribution', 'VerdictNow', 'VerdictBefore20231101', 'Messages', 'FirstSeen', 'LastSeen', 'Remedy'];

export function messageTraceCsv(report: MessageTraceReport): string {
  const lines = [CSV_HEADER.join(',')];
  for (const g of report.groups) {
    lines.push(
      [g.sourceIp, g.p1Domain, g.tenant ?? '', g.connector ?? '', g.attribution, verdictValue(g.verdictNow), verdictValue(g.verdictBefore), String(g.messages), g.firstSeen, g.lastSeen, remedyText(g)]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function remedyText(g: ImpactGroup): string {
  return g.remedies.map((r) => `[${r.rank}] ${r.text}`).join(' ');
}

export function messageTraceTable(report: MessageTraceReport): string {
  const out: string[] = [];
  out.push(
    `Message trace for tenant ${report.tenant}: ${count(report.rows, 'row', 'rows')}, ${count(report.evaluated, 'recipient', 'recipients')} evaluated` +
      (report.skippedNoSourceIp > 0
        ? `, ${count(report.skippedNoSourceIp, 'row', 'rows')} without FromIP skipped (sent from mailboxes inside Exchange Online)`
        : '') +
      '.',
  );
  out.push(
    report.refusedNow === 0
      ? 'Nothing in this trace is refused under the 2023-11 rule.'
      : `Refused under the 2023-11 rule: ${report.refusedNow} (${report.newlyRefused} of them passed before 2023-11-01 or passed only if the From: header was in an accepted domain).`,
  );
  out.push('');
  const head = ['#', 'Source IP', 'P1 domain', 'Connector', 'Now (2023-11)', 'Before 2023-11-01', 'Messages', 'Remedy'];
  const rows = report.groups.map((g, i) => [
    String(i + 1),
    g.sourceIp,
    g.p1Domain,
    g.connector ?? (g.tenant ? '-' : '(none)'),
    VERDICT_TEXT[g.verdictNow],
    VERDICT_TEXT[g.verdictBefore],
    String(g.messages),
    g.remedies.map((r) => r.rank).join(', ') || '-',
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((v, c) => (c === 6 ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd();
  out.push(line(head));
  out.push(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) out.push(line(r));
  const unattributed = report.groups.filter((g) => g.verdictNow === 'rejected' && g.connector === null);
  if (unattributed.length > 0) {
    const n = unattributed.reduce((sum, g) => sum + g.messages, 0);
    out.push(
      '',
      `${count(n, 'refused message', 'refused messages')} matched no connector at all. If they were sent by your users from Outlook or a phone ` +
        '(authenticated submission), the trace shows the client\'s address as FromIP: such mail never crosses an inbound ' +
        'connector and the relay rule does not apply to it. Otherwise the source needs a connector (remedy 1).',
    );
  }
  const withRemedies = report.groups.map((g, i) => ({ g, i })).filter(({ g }) => g.remedies.length > 0);
  if (withRemedies.length > 0) {
    out.push('', 'Remedies (relay-policy §6, in order of preference):');
    for (const { g, i } of withRemedies) {
      out.push(`  #${i + 1} ${g.sourceIp}, P1 ${g.p1Domain}:`);
      for (const r of g.remedies) out.push(`     ${r.rank}. ${r.text}`);
    }
  }
  return out.join('\n') + '\n';
}
