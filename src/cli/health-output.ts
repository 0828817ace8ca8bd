/** How connector health reads for people (`connector health`, `check --tenant`). */
import type { ConnectorHealth, ConnectorHealthReport } from '../health/health-service.js';
import type { HealthWarning } from '../health/warnings.js';

/** The warnings section `check --tenant` adds after the audit (empty when there are none). */
export function renderHealthWarnings(warnings: readonly HealthWarning[]): string {
  if (warnings.length === 0) return '';
  const lines = ['', `Connector health: ${warnings.length} ${warnings.length === 1 ? 'warning' : 'warnings'} from the traffic this relay saw:`];
  for (const w of warnings) lines.push(`  - connector ${w.connector}: [${w.code}] ${w.message}`);
  return lines.join('\n') + '\n';
}

export function renderHealthReport(r: ConnectorHealthReport): string {
  if (r.connectors.length === 0) return 'no connectors\n';
  const blocks = r.connectors.map((c) => renderConnector(c, r.days));
  const summary = r.warnings.length === 0 ? 'No warnings.' : `${r.warnings.length} ${r.warnings.length === 1 ? 'warning' : 'warnings'}.`;
  return `${blocks.join('\n')}\n${summary}\n`;
}

function renderConnector(c: ConnectorHealth, days: number): string {
  const lines = [`Connector ${c.tenant}/${c.connector} (${c.type}${c.enabled ? '' : ', disabled'}): ${c.lastSeen === null ? 'no traffic recorded' : `last seen ${c.lastSeen}`}`];
  if (c.days.length > 0) {
    lines.push(`  Traffic (last ${days} days, UTC):`);
    for (const d of c.days) lines.push(`    ${d.day}  accepted ${d.accepted}  refused ${d.refused}`);
  }
  if (c.certificates.length > 0) {
    lines.push('  Client certificates (oldest first):');
    for (const x of c.certificates) {
      lines.push(`    ${x.names.join(', ') || '(no names)'}${x.inUse ? '  (in use)' : ''}`);
      lines.push(`      subject ${oneLine(x.subject)}; issuer ${oneLine(x.issuer)}; ${x.trusted ? 'trusted' : 'not trusted'}`);
      lines.push(`      SHA-256 ${x.fingerprint}`);
      lines.push(`      valid until ${x.notAfter ?? 'unknown'}; first seen ${x.firstSeen}, last seen ${x.lastSeen}, ${x.seen} times (${x.nullSenders} null sender, ${x.foreignSenders} foreign sender)`);
    }
  }
  if (c.sources.length > 0) {
    lines.push('  Source addresses (most recent first):');
    for (const s of c.sources) lines.push(`    ${s.ip}  first seen ${s.firstSeen}, last seen ${s.lastSeen}, ${s.seen} times`);
  }
  for (const w of c.warnings) lines.push(`  warning: [${w.code}] ${w.message}`);
  return lines.join('\n') + '\n';
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}
