import type { Tenant } from '../directory/model.js';
import { connectorFindings, evaluate, tenantFindings, type DirectorySnapshot } from '../policy/index.js';
import type { Finding, Remedy, Step, Verdict } from '../policy/types.js';
import { prefixAddress } from '../core/ip-prefix.js';

/**
 * `relaygate check --tenant NAME`: audits a tenant's configuration without traffic. For each
 * connector it asks the policy engine itself (no rule is restated here) what happens to the two
 * kinds of mail that tell the rule change apart: a null-sender bounce and an application mail whose
 * envelope sender is in an accepted domain, both to an outside recipient.
 */
export interface ConnectorAudit {
  name: string;
  type: string;
  enabled: boolean;
  /** How the probe connected: certificate name or IP, as the connector would see it. */
  probe: string;
  /** Verdict now (2023-11) for a null-sender bounce and for mail with an accepted P1. */
  nullSender: { current: Verdict | 'pending'; legacy: Verdict | 'pending' } | null;
  acceptedSender: { current: Verdict | 'pending'; legacy: Verdict | 'pending' } | null;
  steps: Step[];
  findings: readonly Finding[];
  remedies: Remedy[];
}

export interface TenantAudit {
  tenant: string;
  connectors: ConnectorAudit[];
  findings: Finding[];
  remedies: Remedy[];
}

const OUTSIDE_RECIPIENT = 'audit-probe@relaygate-audit.invalid';

export function auditTenant(snapshot: DirectorySnapshot, tenant: Tenant, at: Date): TenantAudit {
  const connectors = snapshot.connectorsOf(tenant).map((ic): ConnectorAudit => {
    const c = ic.connector;
    const base = { name: c.name, type: c.type, enabled: c.enabled, findings: connectorFindings(snapshot, ic) };
    if (c.type !== 'OnPremises' || !c.enabled) {
      return { ...base, probe: c.enabled ? 'Partner connectors carry inbound mail only; they never allow a relay.' : 'Disabled: matches nothing.', nullSender: null, acceptedSender: null, steps: [], remedies: [] };
    }
    const pattern = ic.certificatePattern;
    const certName = pattern ? (pattern.kind === 'exact' ? pattern.name : `probe.${pattern.parent}`) : null;
    const ip = !pattern && ic.prefixes[0] ? prefixAddress(ic.prefixes[0]) : '0.0.0.0';
    const connection = {
      ip,
      tls: certName !== null || c.requireTls,
      certificate: certName ? { names: [certName], trusted: true } : null,
    };
    const acceptedDomain = tenant.acceptedDomains[0]?.domain;
    // The bounce carries the tenant's own header From, as a real NDR does: it shows what P2 did before.
    const probe = (mailFrom: string) =>
      evaluate(snapshot, {
        connection,
        message: { mailFrom, recipients: [OUTSIDE_RECIPIENT], headerFrom: acceptedDomain ? `postmaster@${acceptedDomain}` : null },
        at,
      });
    const bounce = probe('');
    const app = acceptedDomain ? probe(`app@${acceptedDomain}`) : null;
    const verdicts = (d: ReturnType<typeof probe>) => ({ current: d.recipients[0]!.currentVerdict, legacy: d.recipients[0]!.legacyVerdict });
    return {
      ...base,
      probe: certName ? `TLS with a trusted certificate named ${certName}` : `from ${ip}`,
      nullSender: verdicts(bounce),
      acceptedSender: app ? verdicts(app) : null,
      steps: bounce.steps,
      remedies: bounce.remedies,
    };
  });
  const findings = tenantFindings(snapshot, tenant);
  const remedies = dedupeRemedies(connectors.flatMap((c) => c.remedies));
  return { tenant: tenant.name, connectors, findings, remedies };
}

export function auditHasFindings(a: TenantAudit): boolean {
  return a.findings.length > 0 || a.connectors.some((c) => c.findings.length > 0 || c.nullSender?.current === 'rejected');
}

function dedupeRemedies(list: Remedy[]): Remedy[] {
  const seen = new Map<string, Remedy>();
  for (const r of list) if (!seen.has(r.text)) seen.set(r.text, r);
  return [...seen.values()].sort((a, b) => a.rank - b.rank);
}

export function renderAudit(a: TenantAudit): string {
  const lines = [`Audit of tenant ${a.tenant}`];
  for (const c of a.connectors) {
    lines.push('', `Connector ${c.name} (${c.type}${c.enabled ? '' : ', disabled'}): ${c.probe}`);
    if (c.nullSender) {
      lines.push(`  null-sender bounce to an outside recipient: now ${c.nullSender.current}, before 2023-11-01 ${c.nullSender.legacy}`);
    }
    if (c.acceptedSender) {
      lines.push(`  mail with an accepted envelope sender:       now ${c.acceptedSender.current}, before 2023-11-01 ${c.acceptedSender.legacy}`);
    }
    for (const s of c.steps) lines.push(`    ${s.id.padEnd(3)} ${s.answer.padEnd(7)} ${s.question} ${s.detail}`);
    for (const f of c.findings) lines.push(`  - [${f.code}] ${f.message}`);
  }
  if (a.findings.length > 0) {
    lines.push('', 'Tenant findings:');
    for (const f of a.findings) lines.push(`  - [${f.code}] ${f.message}`);
  }
  if (a.remedies.length > 0) {
    lines.push('', 'Remedies (in order of preference):');
    for (const r of a.remedies) lines.push(`  ${r.rank}. ${r.text}`);
  }
  lines.push('', auditHasFindings(a) ? 'Result: findings to act on.' : 'Result: clean.');
  return lines.join('\n') + '\n';
}
