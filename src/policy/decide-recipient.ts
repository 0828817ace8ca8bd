import type { Domain } from '../core/domain.js';
import { Replies, type SmtpReply } from '../core/reply.js';
import type { RuleSet, Tenant } from '../directory/model.js';
import type { ParsedAddress } from './address.js';
import { parseEnvelopeAddress } from './address.js';
import { attribute, type Attribution } from './attribution.js';
import { certificateNameDomain } from './certificate-name.js';
import {
  anyConnectorMatchesSource,
  applicablePartnerConnectors,
  connectorMatchesCertificate,
  connectorMatchesIp,
  senderDomainsCover,
  type SourceIdentity,
} from './partner-connectors.js';
import { ruleSetInForce } from './rule-set.js';
import type { DirectorySnapshot } from './snapshot.js';
import { decideSrsReturn } from './srs-return.js';
import type { DecisionRule, RecipientDecision, RecipientVerdict, RelayConditions, SrsReturnFact } from './types.js';

/** What every recipient of a transaction shares. */
export interface TransactionContext {
  snapshot: DirectorySnapshot;
  ip: string;
  tls: boolean;
  source: SourceIdentity;
  p1: ParsedAddress;
  p1Domain: Domain | null;
  /** undefined: header From not known yet; null: none or unusable. */
  p2Domain: Domain | null | undefined;
  at: Date;
  /** The rule set in force for the connection's tenant: what a recipient refused before any rule records. */
  ruleSet: RuleSet;
  srsReturns: Readonly<Record<string, SrsReturnFact>>;
  /** limits.allowAddressLiterals: IP-literal recipients go to the relay rules instead of being refused. */
  allowAddressLiterals: boolean;
}

interface Outcome {
  verdict: RecipientVerdict;
  reply: SmtpReply;
  rule: DecisionRule;
  tenant: Tenant | null;
  explanation: string;
  /** Inbound: the Partner connector that applied. */
  partner?: string;
}

/** The decision for one RCPT (relay-policy.md §4 and §5), under both rule sets. */
export function decideRecipient(ctx: TransactionContext, rawRecipient: string): RecipientDecision {
  const parsed = parseEnvelopeAddress(rawRecipient);
  if (parsed.kind === 'invalid' || parsed.kind === 'null') {
    const reason = parsed.kind === 'invalid' ? parsed.reason : 'null recipient';
    return hygieneRefusal(ctx, rawRecipient, reason);
  }
  // Our rule (address hygiene): mail for `user@[192.0.2.1]` names a host, not a domain anyone owns,
  // and delivery would connect wherever the sender says (loopback, the internal network). Refused
  // unless the operator allows literals; then the relay rules judge it like any foreign domain.
  if (parsed.kind === 'literal' && !ctx.allowAddressLiterals) {
    return { ...hygieneRefusal(ctx, parsed.address, 'an address-literal recipient, and limits.allowAddressLiterals is off'), reply: Replies.addressLiteralRefused };
  }
  const srs = ctx.p1.kind === 'null' && Object.hasOwn(ctx.srsReturns, rawRecipient) ? ctx.srsReturns[rawRecipient] : undefined;
  if (srs) return decideSrsReturn(parsed.address, srs, ctx.ip, hygieneRefusal(ctx, parsed.address, ''));
  const domain = parsed.kind === 'mailbox' ? parsed.domain : null;
  const attribution = attribute(ctx.snapshot, {
    ip: ctx.ip,
    certificateNames: ctx.source.certificateNames,
    p1Domain: ctx.p1Domain,
    recipientDomain: domain,
  });
  const conditions = attribution.tenant ? relayConditions(ctx, attribution, attribution.tenant) : null;
  const current = walk(ctx, attribution, conditions, domain, '2023-11');
  const legacy = walk(ctx, attribution, conditions, domain, 'legacy');
  const ruleSet = ruleSetInForce(attribution.tenant, ctx.at);
  const chosen = ruleSet === '2023-11' ? current : legacy;
  return {
    address: parsed.address,
    domain: domain ?? (parsed.kind === 'literal' ? `[${parsed.literal}]` : null),
    verdict: chosen.verdict,
    reply: chosen.reply,
    rule: chosen.rule,
    tenant: chosen.tenant?.name ?? null,
    tenantId: chosen.tenant?.id ?? null,
    connector:
      chosen.rule === 'internal' || chosen.rule === 'relay' || chosen.verdict === 'pending'
        ? (attribution.connector?.name ?? null)
        : null,
    partnerConnector: chosen.partner ?? null,
    attribution: attribution.kind,
    ruleSet,
    currentVerdict: current.verdict,
    legacyVerdict: legacy.verdict,
    directionality: chosen.rule === 'internal' || chosen.rule === 'relay' || chosen.verdict === 'pending' ? 'Originating' : 'Incoming',
    conditions,
    explanation: chosen.explanation,
  };
}

function hygieneRefusal(ctx: TransactionContext, address: string, reason: string): RecipientDecision {
  return {
    address,
    domain: null,
    verdict: 'rejected',
    reply: Replies.invalidRecipient,
    rule: 'hygiene',
    tenant: null,
    tenantId: null,
    connector: null,
    partnerConnector: null,
    attribution: 'none',
    ruleSet: ctx.ruleSet,
    currentVerdict: 'rejected',
    legacyVerdict: 'rejected',
    directionality: 'Incoming',
    conditions: null,
    explanation: `Refused before any relay rule: ${reason}.`,
  };
}

export function relayConditions(ctx: TransactionContext, attribution: Attribution, tenant: Tenant): RelayConditions {
  return {
    connector: attribution.matchedBy !== null,
    certificateNameAccepted: attribution.matchedCertificateNames.some((n) =>
      ctx.snapshot.isAcceptedBy(certificateNameDomain(n), tenant),
    ),
    envelopeSenderAccepted: ctx.snapshot.isAcceptedBy(ctx.p1Domain, tenant),
    headerFromAccepted: ctx.p2Domain === undefined ? null : ctx.snapshot.isAcceptedBy(ctx.p2Domain, tenant),
  };
}

function walk(
  ctx: TransactionContext,
  attribution: Attribution,
  conditions: RelayConditions | null,
  domain: Domain | null,
  ruleSet: RuleSet,
): Outcome {
  const t = attribution.tenant;
  if (t && attribution.connector?.requireTls && !ctx.tls) {
    return refuse('require-tls', Replies.tlsRequired, t, `Connector ${attribution.connector.name} of ${t.name} requires TLS and the session is not encrypted.`);
  }
  // Rule 1: mail to the attributed tenant's own domains is inbound delivery, not relay.
  if (t && ctx.snapshot.isAcceptedBy(domain, t)) {
    return accept('internal', 'internal', t, `${domain} is an accepted domain of ${t.name}: internal delivery, no relay condition applies.`);
  }
  // Rule 2: relay.
  if (t && conditions?.connector) {
    if (conditions.certificateNameAccepted) {
      return accept('relay', 'relay', t, `Relay allowed: the certificate name is an accepted domain of ${t.name} (condition 1a).`);
    }
    if (conditions.envelopeSenderAccepted) {
      return accept('relay', 'relay', t, `Relay allowed: the envelope sender domain ${ctx.p1Domain} is accepted by ${t.name} (condition 1b).`);
    }
    if (ruleSet === 'legacy') {
      if (conditions.headerFromAccepted === true) {
        return accept('relay', 'relay', t, `Relay allowed under the legacy rules only: the header From domain ${ctx.p2Domain} is accepted by ${t.name} (condition 1c).`);
      }
      if (conditions.headerFromAccepted === null) {
        return {
          verdict: 'pending',
          reply: Replies.recipientOk,
          rule: 'relay',
          tenant: t,
          explanation: `Accepted provisionally: under the legacy rules only the header From (condition 1c) can allow this relay; decided after the headers.`,
        };
      }
    }
  }
  // Rule 3: inbound for the recipient's tenant.
  const u = domain ? ctx.snapshot.acceptingTenant(domain) : null;
  if (u && u.name !== t?.name) return inbound(ctx, u, domain!);
  // Rule 4.
  return refuse('nobody', Replies.relayDenied, null, nobodyExplanation(ctx, attribution, conditions, ruleSet));
}

function inbound(ctx: TransactionContext, u: Tenant, domain: Domain): Outcome {
  const partners = applicablePartnerConnectors(ctx.snapshot, u, ctx.source, ctx.p1Domain);
  const tlsRequiring = partners.find((ic) => ic.connector.requireTls);
  if (tlsRequiring && !ctx.tls) {
    return refuse('partner-require-tls', Replies.tlsRequired, u, `Partner connector ${tlsRequiring.connector.name} of ${u.name} requires TLS for this sender.`);
  }
  // A restriction binds the connector's own sender domains (Microsoft: "email from the SenderDomains
  // is required to come with..."): a connector that applies only by matching the source restricts nothing.
  const restricted = partners.find(
    (ic) =>
      senderDomainsCover(ic.connector.senderDomains, ctx.p1Domain) &&
      ((ic.connector.restrictDomainsToIPAddresses && !connectorMatchesIp(ic, ctx.source)) ||
        (ic.connector.restrictDomainsToCertificate && !connectorMatchesCertificate(ic, ctx.source))),
  );
  if (restricted) {
    return refuse('partner-restriction', Replies.partnerRestriction, u, `Partner connector ${restricted.connector.name} of ${u.name} restricts this sender domain to its own IP addresses or certificate, and the connection does not match.`);
  }
  if (u.rejectDirectSend && ctx.snapshot.isAcceptedBy(ctx.p1Domain, u) && !anyConnectorMatchesSource(ctx.snapshot, u, ctx.source)) {
    return refuse('direct-send', Replies.directSendDenied, u, `${u.name} rejects Direct Send: the sender domain ${ctx.p1Domain} is its own, but no connector of ${u.name} matched this connection.`);
  }
  // The one to name: a connector that recognised the source, else one that names the sender's domain, else one for every sender.
  const applied = (
    partners.find((ic) => connectorMatchesIp(ic, ctx.source) || connectorMatchesCertificate(ic, ctx.source)) ??
    partners.find((ic) => !ic.connector.senderDomains.includes('*')) ??
    partners[0]
  )?.connector.name;
  return {
    ...accept('inbound', 'inbound', u, `${domain} is an accepted domain of ${u.name}: inbound delivery${applied ? ` (Partner connector ${applied})` : ''}.`),
    ...(applied ? { partner: applied } : {}),
  };
}

function nobodyExplanation(
  ctx: TransactionContext,
  attribution: Attribution,
  conditions: RelayConditions | null,
  ruleSet: RuleSet,
): string {
  if (attribution.tied.length > 0) {
    return `Relay denied: the connection matched OnPremises connectors of several tenants (${attribution.tied.join(', ')}) and no tie-break separated them.`;
  }
  if (!attribution.tenant) return `Relay denied: the connection (${ctx.ip}) matched no enabled OnPremises connector by certificate or IP.`;
  const t = attribution.tenant.name;
  const p1 = ctx.p1.kind === 'null' ? 'null envelope sender <>' : `envelope sender domain ${ctx.p1Domain ?? '(none)'}`;
  if (ruleSet === 'legacy' && conditions?.headerFromAccepted === false) {
    return `Relay denied: neither the certificate name, the ${p1} nor the header From domain is accepted by ${t}.`;
  }
  return `Relay denied: the connection belongs to ${t}, but neither a matching certificate name nor the ${p1} is an accepted domain of ${t} (conditions 1a and 1b fail).`;
}

function accept(verdict: RecipientVerdict, rule: DecisionRule, tenant: Tenant, explanation: string): Outcome {
  return { verdict, reply: Replies.recipientOk, rule, tenant, explanation };
}

function refuse(rule: DecisionRule, reply: SmtpReply, tenant: Tenant | null, explanation: string): Outcome {
  return { verdict: 'rejected', reply, rule, tenant, explanation };
}
