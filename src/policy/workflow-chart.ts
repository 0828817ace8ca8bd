import type { Domain } from '../core/domain.js';
import type { Tenant } from '../directory/model.js';
import type { Attribution } from './attribution.js';
import { certificateNameDomain } from './certificate-name.js';
import { connectorMatchesIp, type SourceIdentity } from './partner-connectors.js';
import type { DirectorySnapshot } from './snapshot.js';
import type { CertificateJudgement, ChartOutcome, RecipientDecision, Step, StepAnswer } from './types.js';

export interface ChartInput {
  snapshot: DirectorySnapshot;
  attribution: Attribution;
  certificate: CertificateJudgement;
  source: SourceIdentity;
  ip: string;
  p1Domain: Domain | null;
  p1IsNull: boolean;
  p2Domain: Domain | null | undefined;
  recipients: RecipientDecision[];
}

export interface ChartWalk {
  subject: Tenant | null;
  steps: Step[];
  outcome: ChartOutcome;
  /** A certificate matched a connector of the subject tenant but its name is not accepted (S3 no). */
  certificateNameNotAccepted: string | null;
}

/**
 * Walks Microsoft's workflow chart for the transaction's tenant: the one attributed by a connector,
 * else the one the sender claims to be (the P1, then the P2 domain's tenant), so that an admin sees
 * why their own mail failed to attribute.
 */
export function walkChart(input: ChartInput): ChartWalk {
  const { snapshot, attribution: a, certificate, p1Domain, p2Domain } = input;
  const steps: Step[] = [];
  const step = (id: string, question: string, answer: StepAnswer, detail: string) => steps.push({ id, question, answer, detail });
  const walk = (subject: Tenant | null, outcome: ChartOutcome, certificateNameNotAccepted: string | null = null): ChartWalk => ({ subject, steps, outcome, certificateNameNotAccepted });

  const certDetail = !certificate.presented
    ? 'No client certificate was presented.'
    : certificate.names.length === 0
      ? `The certificate gives no names: ${certificate.reason}.`
      : a.certificateCandidates.length === 0
        ? `Certificate names ${certificate.names.join(', ')} match no enabled OnPremises connector.`
        : `Certificate names ${certificate.names.join(', ')} match ${describe(a.certificateCandidates)}.`;
  step('A1', 'Does a trusted, valid client certificate match an enabled OnPremises connector?', a.certificateCandidates.length > 0 ? 'yes' : 'no', certDetail);
  step(
    'A2',
    'Does the source IP match an enabled OnPremises connector?',
    a.ipCandidates.length > 0 ? 'yes' : 'no',
    a.ipCandidates.length > 0 ? `${input.ip} matches ${describe(a.ipCandidates)}.` : `${input.ip} matches no enabled OnPremises connector.`,
  );
  step(
    'A3',
    'Is the connection attributed to exactly one tenant?',
    a.tenant ? 'yes' : 'no',
    a.tenant
      ? `Attributed to ${a.tenant.name} by ${a.kind}${a.tieBreak ? ` (tie broken by ${a.tieBreak})` : ''}, connector ${a.connector?.name}.`
      : a.tied.length > 0
        ? `Tenants ${a.tied.join(', ')} tied and no tie-break separated them.`
        : 'No connector matched: the connection belongs to no tenant.',
  );

  // On an unresolved tie the sender's claimed tenant is not walked: it may be one the tie-breaks
  // excluded, and the chart would call compliant a connection that no tenant owns.
  const claimed = a.tied.length > 0 ? null : (p1Domain ? snapshot.acceptingTenant(p1Domain) : null) ?? (p2Domain ? snapshot.acceptingTenant(p2Domain) : null);
  const subject = a.tenant ?? claimed;
  if (!subject) {
    step(
      'S0',
      'Does the tenant have an enabled OnPremises connector?',
      'no',
      a.tied.length > 0
        ? `No single tenant: ${a.tied.join(', ')} tied for this connection (see A3).`
        : 'No tenant: no connector matched and the sender domains are accepted by no tenant.',
    );
    return walk(null, 'OUT-F');
  }
  const onPrem = snapshot.connectorsOf(subject).filter((ic) => ic.connector.enabled && ic.connector.type === 'OnPremises');
  if (onPrem.length === 0) {
    step('S0', 'Does the tenant have an enabled OnPremises connector?', 'no', `${subject.name} has none: the rule change does not affect it, and it cannot relay.`);
    return walk(subject, 'OUT-N');
  }
  step('S0', 'Does the tenant have an enabled OnPremises connector?', 'yes', `${subject.name}: ${onPrem.map((ic) => ic.connector.name).join(', ')}.`);

  const relayRecipients = input.recipients.filter((r) => r.rule !== 'hygiene' && r.rule !== 'internal' && r.rule !== 'srs-return');
  const certConnectors = onPrem.filter((ic) => ic.certificatePattern !== null);
  const certMatched = a.certificateCandidates.filter((ic) => ic.tenant.name === subject.name);
  const ipMatched = onPrem.filter((ic) => connectorMatchesIp(ic, input.source));
  const byCertificate = certConnectors.length > 0 && certificate.presented;
  step(
    'S1',
    'Does the connection match a connector by certificate (S2) or only by IP (S4)?',
    byCertificate ? 'yes' : 'no',
    byCertificate
      ? `${subject.name} has certificate connector(s) ${certConnectors.map((ic) => `${ic.connector.name} (${ic.connector.tlsSenderCertificateName})`).join(', ')} and a certificate was presented.`
      : certConnectors.length === 0
        ? `${subject.name} has no certificate-based OnPremises connector: IP only.`
        : 'No client certificate was presented: IP only.',
  );
  if (input.recipients.length > 0 && relayRecipients.length === 0) {
    // relay-policy.md §7: internal recipients skip S3–S6; S2 (does the certificate match?) is still answered.
    const [s2, ...s3ToS6] = laterSteps;
    if (byCertificate) {
      step(s2![0], s2![1], certMatched.length > 0 ? 'yes' : 'no', certMatched.length > 0 ? `${certificate.names.join(', ')} match ${certMatched.map((ic) => ic.connector.name).join(', ')}.` : certDetail);
    } else {
      step(s2![0], s2![1], 'skipped', 'IP-only path.');
    }
    for (const [id, q] of s3ToS6) step(id, q, 'skipped', `Every recipient is in ${subject.name}'s accepted domains: inbound delivery, not relay; S3–S6 do not apply.`);
    return walk(subject, 'OUT-I');
  }

  let certificateNameNotAccepted: string | null = null;
  if (byCertificate) {
    if (certMatched.length > 0) {
      const wildcard = certMatched.some((ic) => ic.certificatePattern?.kind === 'wildcard');
      step('S2', 'Is the certificate trusted and valid, with a CN/SAN matching TlsSenderCertificateName?', 'yes', `${certificate.names.join(', ')} match ${certMatched.map((ic) => ic.connector.name).join(', ')}${wildcard ? ' (wildcard name: allowed, not recommended)' : ''}.`);
      const names = a.tenant?.name === subject.name ? a.matchedCertificateNames : certificate.names;
      const accepted = names.find((n) => snapshot.isAcceptedBy(certificateNameDomain(n), subject));
      if (accepted) {
        step('S3', 'Is the matched certificate name an accepted domain?', 'yes', `${accepted} is accepted by ${subject.name}: compliant for all mail on this connection, null senders included.`);
        return walk(subject, 'OUT-C');
      }
      certificateNameNotAccepted = names[0] ?? null;
      step('S3', 'Is the matched certificate name an accepted domain?', 'no', `${names.join(', ')} is not an accepted domain of ${subject.name}: add it as an accepted domain. Going on to S5.`);
      step('S4', "Is the source IP in the connector's ranges?", 'skipped', 'The connector matched by certificate.');
    } else {
      step('S2', 'Is the certificate trusted and valid, with a CN/SAN matching TlsSenderCertificateName?', 'no', certDetail);
      if (!ipStep(ipMatched.length > 0)) return walk(subject, 'OUT-F');
      step('S3', 'Is the matched certificate name an accepted domain?', 'skipped', 'No certificate matched.');
    }
  } else {
    step('S2', 'Is the certificate trusted and valid, with a CN/SAN matching TlsSenderCertificateName?', 'skipped', 'IP-only path.');
    step('S3', 'Is the matched certificate name an accepted domain?', 'skipped', 'IP-only path.');
    if (!ipStep(ipMatched.length > 0)) return walk(subject, 'OUT-F');
  }

  if (p1Domain && snapshot.isAcceptedBy(p1Domain, subject)) {
    step('S5', 'Is the envelope sender (P1) domain accepted?', 'yes', `${p1Domain} is accepted by ${subject.name}: compliant via condition 1b.`);
    return walk(subject, 'OUT-D', certificateNameNotAccepted);
  }
  step('S5', 'Is the envelope sender (P1) domain accepted?', 'no', input.p1IsNull ? 'The envelope sender is null (<>): condition 1b never holds for bounces and automatic replies.' : `${p1Domain ?? 'the envelope sender'} is not an accepted domain of ${subject.name}.`);
  const p2Accepted = p2Domain ? snapshot.isAcceptedBy(p2Domain, subject) : false;
  step(
    'S6',
    'Is the header From (P2) domain accepted? (counted only before 2023-11-01)',
    p2Domain === undefined ? 'skipped' : p2Accepted ? 'yes' : 'no',
    p2Domain === undefined
      ? 'The header From is not known (no message given): under the current rules it does not count anyway.'
      : p2Accepted
        ? `${p2Domain} is accepted: this mail passed only under the legacy rules and is refused since 2023-11-01 (non-compliant: see the remedies).`
        : p2Domain === null
          ? 'The message has no usable header From: refused under both rule sets.'
          : `${p2Domain} is not accepted either: refused under both rule sets.`,
  );
  return walk(subject, p2Accepted ? 'OUT-E' : 'OUT-F', certificateNameNotAccepted);

  function ipStep(matched: boolean): boolean {
    step(
      'S4',
      "Is the source IP in the connector's ranges?",
      matched ? 'yes' : 'no',
      matched ? `${input.ip} is in ${ipMatched.map((ic) => ic.connector.name).join(', ')}.` : `${input.ip} is in no range of ${subject!.name}'s OnPremises connectors: condition 2 fails (5.7.64).`,
    );
    return matched;
  }
}

const laterSteps: Array<[string, string]> = [
  ['S2', 'Is the certificate trusted and valid, with a CN/SAN matching TlsSenderCertificateName?'],
  ['S3', 'Is the matched certificate name an accepted domain?'],
  ['S4', "Is the source IP in the connector's ranges?"],
  ['S5', 'Is the envelope sender (P1) domain accepted?'],
  ['S6', 'Is the header From (P2) domain accepted? (counted only before 2023-11-01)'],
];

function describe(list: Attribution['ipCandidates']): string {
  return list.map((ic) => `${ic.tenant.name}/${ic.connector.name}`).join(', ');
}
