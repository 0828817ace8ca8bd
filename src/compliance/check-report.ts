import { formatReply } from '../core/reply.js';
import type { ChartOutcome, RecipientDecision, TransactionDecision } from '../policy/types.js';

const outcomeText: Record<ChartOutcome, string> = {
  'OUT-C': 'compliant for all mail on this connection (certificate name is an accepted domain)',
  'OUT-D': 'compliant via the envelope sender domain (condition 1b)',
  'OUT-E': 'passed before 2023-11-01 only through the header From; refused now',
  'OUT-F': 'refused under both rule sets',
  'OUT-N': 'the tenant has no enabled OnPremises connector: not affected, cannot relay',
  'OUT-I': 'every recipient is internal to the tenant: relay conditions do not apply',
};

/** The `check --json` document. Other tools read it: the keys are part of the contract (issue 2). */
export interface CheckJson {
  tenant: string | null;
  connector: string | null;
  attribution: string;
  ruleSet: string;
  recipients: Array<{
    address: string;
    verdict: string;
    tenant: string | null;
    reply: string;
    currentVerdict: string;
    legacyVerdict: string;
  }>;
  steps: Array<{ id: string; question: string; answer: string; detail: string }>;
  warnings: Array<{ code: string; message: string }>;
  /** relay-policy.md §6's number of each remedy (the human output numbers the shown ones 1, 2, ...). */
  remedies: Array<{ rank: number; text: string }>;
  /** Where the CAs that judged a client certificate file came from; null when none was judged. */
  trustStore: string | null;
  /** What the checker assumed for facts the input did not give. */
  notes: string[];
}

/** What the checker itself adds to the engine's decision. */
export interface CheckContext {
  trustStore: string | null;
  notes: readonly string[];
}

export function toCheckJson(d: TransactionDecision, context: CheckContext): CheckJson {
  return {
    tenant: d.tenant,
    connector: d.connector,
    attribution: d.attribution,
    ruleSet: d.ruleSet,
    recipients: d.recipients.map((r) => ({
      address: r.address,
      verdict: r.verdict,
      tenant: r.tenant,
      reply: formatReply(r.reply),
      currentVerdict: r.currentVerdict,
      legacyVerdict: r.legacyVerdict,
    })),
    steps: d.steps.map(({ id, question, answer, detail }) => ({ id, question, answer, detail })),
    warnings: d.warnings.map(({ code, message }) => ({ code, message })),
    remedies: d.remedies.map(({ rank, text }) => ({ rank, text })),
    trustStore: context.trustStore,
    notes: [...context.notes],
  };
}

/** Every recipient accepted (relay, internal, inbound)? Drives the exit code 0/1. */
export function allAccepted(d: TransactionDecision): boolean {
  return d.recipients.every((r) => r.verdict !== 'rejected');
}

export function renderCheck(d: TransactionDecision, facts: CheckContext & { ip: string; tls: boolean; at: Date; mailFrom: string }): string {
  const lines: string[] = [];
  const cert = !d.certificate.presented
    ? 'no client certificate'
    : d.certificate.names.length > 0
      ? `certificate ${d.certificate.names.join(', ')}`
      : `certificate ignored (${d.certificate.reason})`;
  lines.push(`Connection ${facts.ip}, ${facts.tls ? 'TLS' : 'no TLS'}, ${cert}; MAIL FROM <${facts.mailFrom}> at ${facts.at.toISOString()}`);
  if (facts.trustStore !== null) lines.push(`Client certificate judged against ${facts.trustStore}`);
  for (const n of facts.notes) lines.push(`Note: ${n}`);
  lines.push(attributionLine(d));
  if (d.mailFromReply) lines.push(`MAIL FROM refused: ${formatReply(d.mailFromReply)}`);
  lines.push(...decisionLines(d));
  return lines.join('\n') + '\n';
}

/** What the engine decided, as `check` prints it and the trace tells it (one renderer for both). */
export type DecisionWalk = Pick<TransactionDecision, 'tenant' | 'connector' | 'attribution' | 'ruleSet' | 'tiedTenants' | 'recipients' | 'steps' | 'outcome' | 'warnings' | 'remedies'>;

/** Which tenant the connection was attributed to, how, and the rule set in force. */
export function attributionLine(d: Pick<DecisionWalk, 'tenant' | 'connector' | 'attribution' | 'ruleSet' | 'tiedTenants'>): string {
  return d.tenant
    ? `Attributed to tenant ${d.tenant} by ${d.attribution} (connector ${d.connector}); rule set in force: ${d.ruleSet}`
    : `Attributed to no tenant${d.tiedTenants.length ? ` (tie between ${d.tiedTenants.join(', ')})` : ''}; rule set in force: ${d.ruleSet}`;
}

/** The recipients' verdicts, the workflow chart walk with its outcome, the warnings and the remedies. */
export function decisionLines(d: DecisionWalk, options: { headingWithoutRecipients?: boolean } = {}): string[] {
  const lines: string[] = [];
  if (d.recipients.length > 0 || (options.headingWithoutRecipients ?? true)) {
    lines.push('', 'Recipients:');
    for (const r of d.recipients) lines.push(...renderRecipient(r));
  }
  lines.push('', 'Workflow chart:');
  for (const s of d.steps) lines.push(`  ${s.id.padEnd(3)} ${s.answer.padEnd(7)} ${s.question}`, `              ${s.detail}`);
  lines.push(`  Outcome: ${d.outcome} — ${outcomeText[d.outcome]}`);
  if (d.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of d.warnings) lines.push(`  - [${w.code}] ${w.message}`);
  }
  if (d.remedies.length > 0) {
    lines.push('', 'Remedies (in order of preference):');
    d.remedies.forEach((r, i) => lines.push(`  ${i + 1}. ${r.text}`));
  }
  return lines;
}

function renderRecipient(r: RecipientDecision): string[] {
  const changed = r.currentVerdict !== r.legacyVerdict ? `  [now: ${r.currentVerdict}; before 2023-11-01: ${r.legacyVerdict}]` : '';
  return [`  ${r.verdict.toUpperCase().padEnd(9)} ${r.address}  ${formatReply(r.reply)}${changed}`, `            ${r.explanation}`];
}
