import { domainOf } from '../core/address.js';
import type { Domain } from '../core/domain.js';
import { Replies } from '../core/reply.js';
import { addressDomain, firstHeaderAddress, parseEnvelopeAddress } from './address.js';
import { attribute } from './attribution.js';
import { judgeCertificate } from './certificate-judgement.js';
import { decideRecipient, type TransactionContext } from './decide-recipient.js';
import { connectorFindings, tenantFindings } from './findings.js';
import { parsePrefix } from '../core/ip-prefix.js';
import { remediesFor } from './remedies.js';
import { ruleSetInForce } from './rule-set.js';
import type { DirectorySnapshot } from './snapshot.js';
import type { EvaluationInput, Finding, RecipientDecision, TransactionDecision } from './types.js';
import { walkChart } from './workflow-chart.js';

/**
 * The policy engine's entry point: facts in, a decision with its explanation out. Pure: the same
 * input gives the same output, with no I/O, clock or randomness. The SMTP session calls it with no
 * recipients at MAIL FROM, with one at each RCPT, and again at end of DATA when a recipient is pending.
 */
export function evaluate(snapshot: DirectorySnapshot, input: EvaluationInput): TransactionDecision {
  const { connection, message, at } = input;
  const certificate = judgeCertificate(connection.certificate, at);
  const p1 = parseEnvelopeAddress(message.mailFrom);
  const p1Domain = addressDomain(p1);
  const p2Domain = headerFromDomain(message.headerFrom);
  const source = { ip: parsePrefix(connection.ip), certificateNames: certificate.names };
  const attribution = attribute(snapshot, { ip: connection.ip, certificateNames: certificate.names, p1Domain });

  let mailFromReply = null;
  let mailFromRule: TransactionDecision['mailFromRule'] = null;
  if (p1.kind === 'invalid') {
    mailFromReply = Replies.invalidSender;
    mailFromRule = 'hygiene';
  } else if (attribution.connector?.requireTls && !connection.tls) {
    mailFromReply = Replies.tlsRequired;
    mailFromRule = 'require-tls';
  }

  const ctx: TransactionContext = { snapshot, ip: connection.ip, tls: connection.tls, source, p1, p1Domain, p2Domain, at, ruleSet: ruleSetInForce(attribution.tenant, at), srsReturns: message.srsReturns ?? {}, allowAddressLiterals: input.settings?.allowAddressLiterals === true };
  const recipients: RecipientDecision[] = message.recipients.map((r) => {
    const decision = decideRecipient(ctx, r);
    if (!mailFromReply) return decision;
    return { ...decision, verdict: 'rejected', reply: mailFromReply, currentVerdict: 'rejected', legacyVerdict: 'rejected', explanation: `MAIL FROM was refused (${mailFromReply.enhanced}).` };
  });

  const chart = walkChart({ snapshot, attribution, certificate, source, ip: connection.ip, p1Domain, p1IsNull: p1.kind === 'null', p2Domain, recipients });
  const warnings: Finding[] = [];
  if (certificate.presented && certificate.names.length === 0 && certificate.reason) {
    warnings.push({ code: 'certificate-ignored', message: `The client certificate was ignored: ${certificate.reason}.` });
  }
  if (attribution.tied.length > 0) {
    warnings.push({ code: 'attribution-tie', message: `Tenants ${attribution.tied.join(', ')} matched this connection equally; it is attributed to none.` });
  }
  const matched = attribution.tenant
    ? snapshot.connectorsOf(attribution.tenant).find((ic) => ic.connector === attribution.connector)
    : undefined;
  if (matched) warnings.push(...connectorFindings(snapshot, matched));
  if (chart.subject) warnings.push(...tenantFindings(snapshot, chart.subject));
  // §7 S3 "No → warn": also when the connector's own name is accepted but the presented name is not
  // (a wildcard connector matched by a deeper host name).
  const notAccepted = chart.certificateNameNotAccepted;
  if (notAccepted && !warnings.some((w) => w.code === 'certificate-name-not-accepted')) {
    warnings.push({
      code: 'certificate-name-not-accepted',
      message: `Certificate name ${notAccepted} is not an accepted domain of ${chart.subject?.name}: mail on this connection relays only when the envelope sender domain is accepted (add ${notAccepted} as an accepted domain).`,
      ...(chart.subject ? { tenant: chart.subject.name } : {}),
      ...(attribution.connector ? { connector: attribution.connector.name } : {}),
    });
  }

  // Remedy 4 is about IP ranges: offer it when a shared range attributed the connection (however the
  // tie was broken) or left it tied, not when certificate connectors tied.
  const ipTie = attribution.tied.length > 0 && attribution.certificateCandidates.length === 0;
  const sharedIpTenants =
    attribution.matchedBy === 'ip' || ipTie
      ? [...new Set(attribution.ipCandidates.map((ic) => ic.tenant.name))].filter((n) => n !== chart.subject?.name).sort()
      : [];
  // relay-policy.md §6 gives remedies for a refusal: a recipient that fell to rule 4, or that 2023-11
  // refuses while the legacy rules pass it (or wait for P2). Accepted inbound, Direct Send, Partner
  // and hygiene refusals get none. Without recipients (MAIL FROM time) the chart alone decides.
  const relayRefused =
    recipients.length === 0 ||
    recipients.some((r) => r.rule === 'nobody' || (r.currentVerdict === 'rejected' && r.legacyVerdict !== 'rejected'));
  const remedies = remediesFor({
    outcome: chart.outcome,
    subject: chart.subject,
    attribution,
    p1Domain,
    p1IsNull: p1.kind === 'null',
    p1Accepted: chart.subject !== null && snapshot.isAcceptedBy(p1Domain, chart.subject),
    certificateNameNotAccepted: chart.certificateNameNotAccepted,
    sharedIpTenants,
    relayRefused,
  });

  return {
    tenant: attribution.tenant?.name ?? null,
    tenantId: attribution.tenant?.id ?? null,
    connector: attribution.connector?.name ?? null,
    attribution: attribution.kind,
    ruleSet: ruleSetInForce(attribution.tenant, at),
    certificate,
    mailFromReply,
    mailFromRule,
    mailFrom: p1.kind === 'null' ? '' : p1.kind === 'invalid' ? null : p1.address,
    recipients,
    tiedTenants: attribution.tied,
    steps: chart.steps,
    outcome: chart.outcome,
    warnings,
    remedies,
  };
}

function headerFromDomain(headerFrom: string | null | undefined): Domain | null | undefined {
  if (headerFrom === undefined) return undefined;
  if (headerFrom === null) return null;
  return domainOf(firstHeaderAddress(headerFrom) ?? headerFrom);
}
