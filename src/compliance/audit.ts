import type { Tenant } from '../directory/model.js';
import { formatReply } from '../core/reply.js';
import { connectorFindings, evaluate, formatPrefix, tenantFindings, type DirectorySnapshot } from '../policy/index.js';
import type { Finding, Remedy, Step, TransactionDecision, Verdict } from '../policy/types.js';
import { prefixAddress } from '../core/ip-prefix.js';

/**
 * `relaygate check --tenant NAME`: audits a tenant's configuration without traffic. For each
 * connector it asks the policy engine itself (no rule is restated here) what happens to the three
 * kinds of mail that tell the rule change apart, all to an outside recipient: a null-sender bounce,
 * an application mail whose envelope sender is in an accepted domain, and one whose envelope sender
 * is someone else's (a SaaS application sending for the tenant).
 */
export interface ProbeVerdicts {
  current: Verdict | 'pending';
  legacy: Verdict | 'pending';
  /** The reply under the rules in force, when they refuse. */
  refusal: string | null;
}

export interface ConnectorAudit {
  name: string;
  type: string;
  enabled: boolean;
  /** How the probe connected: certificate name or IP, as the connector would see it. */
  probe: string;
  /** Verdicts now (2023-11) and before 2023-11-01, for a null-sender bounce, an accepted P1 and a foreign P1. */
  nullSender: ProbeVerdicts | null;
  acceptedSender: ProbeVerdicts | null;
  foreignSender: ProbeVerdicts | null;
  steps: Step[];
  findings: readonly Finding[];
  remedies: Remedy[];
}

/** One thing the admin should look at: a kind of mail refused now, or one of the engine's findings. */
export interface AuditItem {
  kind: 'refusal' | 'finding';
  /** Null for a finding about the whole tenant. */
  connector: string | null;
  /** The finding's code (`refused-now` for a refusal). */
  code: string;
  text: string;
}

export interface TenantAudit {
  tenant: string;
  connectors: ConnectorAudit[];
  findings: Finding[];
  remedies: Remedy[];
  /** What "findings to act on" means for this tenant: empty when the audit is clean. */
  toActOn: AuditItem[];
}

const OUTSIDE_RECIPIENT = 'audit-probe@relaygate-audit.invalid';
const FOREIGN_SENDER = 'app@relaygate-audit.invalid';
/** Where a certificate probe connects from: an address of no connector, never shown (see probeSteps). */
const NO_CONNECTOR_ADDRESS = '0.0.0.0';

export function auditTenant(snapshot: DirectorySnapshot, tenant: Tenant, at: Date): TenantAudit {
  const connectors = snapshot.connectorsOf(tenant).map((ic): ConnectorAudit => {
    const c = ic.connector;
    const base = { name: c.name, type: c.type, enabled: c.enabled, findings: connectorFindings(snapshot, ic) };
    if (c.type !== 'OnPremises' || !c.enabled) {
      return {
        ...base,
        probe: c.enabled ? 'Partner connectors carry inbound mail only; they never allow a relay.' : 'Disabled: matches nothing.',
        nullSender: null,
        acceptedSender: null,
        foreignSender: null,
        steps: [],
        remedies: [],
      };
    }
    const pattern = ic.certificatePattern;
    const certName = pattern ? (pattern.kind === 'exact' ? pattern.name : `probe.${pattern.parent}`) : null;
    const ip = !pattern && ic.prefixes[0] ? prefixAddress(ic.prefixes[0]) : NO_CONNECTOR_ADDRESS;
    const connection = {
      ip,
      tls: certName !== null || c.requireTls,
      certificate: certName ? { names: [certName], trusted: true } : null,
    };
    const acceptedDomain = tenant.acceptedDomains[0]?.domain;
    // The probes carry the tenant's own header From, as a real NDR or SaaS mail does: it shows what P2 did before.
    const probe = (mailFrom: string) =>
      evaluate(snapshot, {
        connection,
        message: { mailFrom, recipients: [OUTSIDE_RECIPIENT], headerFrom: acceptedDomain ? `postmaster@${acceptedDomain}` : null },
        at,
      });
    const bounce = probe('');
    const app = acceptedDomain ? probe(`app@${acceptedDomain}`) : null;
    const ranges = ic.prefixes.map(formatPrefix).join(', ');
    return {
      ...base,
      probe: certName
        ? `TLS with a trusted certificate named ${certName}`
        : `from ${ranges} (probed from ${ip})`,
      nullSender: verdicts(bounce),
      acceptedSender: app ? verdicts(app) : null,
      foreignSender: verdicts(probe(FOREIGN_SENDER)),
      steps: certName ? withoutProbeAddress(bounce.steps) : bounce.steps,
      remedies: bounce.remedies,
    };
  });
  const findings = tenantFindings(snapshot, tenant);
  const remedies = dedupeRemedies(connectors.flatMap((c) => c.remedies));
  return { tenant: tenant.name, connectors, findings, remedies, toActOn: itemsToActOn(tenant, connectors, findings) };
}

function verdicts(d: TransactionDecision): ProbeVerdicts {
  const r = d.recipients[0]!;
  return { current: r.currentVerdict, legacy: r.legacyVerdict, refusal: r.verdict === 'rejected' ? formatReply(r.reply) : null };
}

/** A certificate probe has no real source address: the step that reports on it would show a made-up one. */
function withoutProbeAddress(steps: Step[]): Step[] {
  return steps.filter((s) => s.id !== 'A2');
}

function itemsToActOn(tenant: Tenant, connectors: ConnectorAudit[], findings: Finding[]): AuditItem[] {
  const items: AuditItem[] = [];
  for (const c of connectors) {
    const refused = [
      c.nullSender?.current === 'rejected' ? 'null-sender bounces' : null,
      c.foreignSender?.current === 'rejected' ? `mail whose envelope sender is not in ${tenant.name}'s accepted domains` : null,
      c.acceptedSender?.current === 'rejected' ? 'mail with an accepted envelope sender' : null,
    ].filter((s): s is string => s !== null);
    if (refused.length > 0) {
      const reply = c.nullSender?.refusal ?? c.foreignSender?.refusal ?? c.acceptedSender?.refusal;
      const text = `refused now when sent to outside recipients${reply ? ` (${reply})` : ''}: ${refused.join('; ')}.`;
      items.push({ kind: 'refusal', connector: c.name, code: 'refused-now', text });
    }
    for (const f of c.findings) items.push({ kind: 'finding', connector: c.name, code: f.code, text: f.message });
  }
  for (const f of findings) items.push({ kind: 'finding', connector: null, code: f.code, text: f.message });
  return items;
}

export function auditHasFindings(a: TenantAudit): boolean {
  return a.toActOn.length > 0;
}

function dedupeRemedies(list: Remedy[]): Remedy[] {
  const seen = new Map<string, Remedy>();
  for (const r of list) if (!seen.has(r.text)) seen.set(r.text, r);
  return [...seen.values()].sort((a, b) => a.rank - b.rank);
}

const PROBE_LABELS = {
  nullSender: 'null-sender bounce to an outside recipient:',
  acceptedSender: 'mail with an accepted envelope sender:',
  foreignSender: 'mail with a foreign envelope sender:',
} as const;
const LABEL_WIDTH = Math.max(...Object.values(PROBE_LABELS).map((l) => l.length)) + 1;

export function renderAudit(a: TenantAudit): string {
  const lines = [`Audit of tenant ${a.tenant}`];
  for (const c of a.connectors) {
    lines.push('', `Connector ${c.name} (${c.type}${c.enabled ? '' : ', disabled'}): ${c.probe}`);
    for (const key of ['nullSender', 'acceptedSender', 'foreignSender'] as const) {
      const v = c[key];
      if (v) lines.push(`  ${PROBE_LABELS[key].padEnd(LABEL_WIDTH)}now ${v.current}, before 2023-11-01 ${v.legacy}`);
    }
    for (const s of c.steps) lines.push(`    ${s.id.padEnd(3)} ${s.answer.padEnd(7)} ${s.question} ${s.detail}`);
  }
  if (a.remedies.length > 0) {
    lines.push('', 'Remedies (in order of preference):');
    a.remedies.forEach((r, i) => lines.push(`  ${i + 1}. ${r.text}`));
  }
  if (a.toActOn.length === 0) {
    lines.push('', 'Result: clean.');
  } else {
    lines.push('', `Result: ${a.toActOn.length} ${a.toActOn.length === 1 ? 'finding' : 'findings'} to act on:`);
    for (const item of a.toActOn) {
      const where = item.connector === null ? 'tenant' : `connector ${item.connector}`;
      lines.push(`  - ${where}: ${item.kind === 'finding' ? `[${item.code}] ` : ''}${item.text}`);
    }
  }
  return lines.join('\n') + '\n';
}
