import type { Domain } from '../core/domain.js';
import type { Tenant } from '../directory/model.js';
import type { Attribution } from './attribution.js';
import type { ChartOutcome, Remedy } from './types.js';

export interface RemedyFacts {
  outcome: ChartOutcome;
  subject: Tenant | null;
  attribution: Attribution;
  p1Domain: Domain | null;
  p1IsNull: boolean;
  /** The P1 domain is already an accepted domain of the chart's tenant (remedy 3 has nothing to add). */
  p1Accepted: boolean;
  certificateNameNotAccepted: string | null;
  sharedIpTenants: string[];
  /** Some recipient's relay is refused now (or no recipients were given). */
  relayRefused: boolean;
}

/**
 * Remedies in admin terms, in relay-policy.md §6's order of preference, for a transaction whose
 * relay fails now (OUT-E, OUT-F) or that depends on a weak condition.
 */
export function remediesFor(f: RemedyFacts): Remedy[] {
  // The admins to advise: the chart's tenant, or the tenants that tied. With neither (no connector
  // matched, sender domains nobody's) there is no admin to advise.
  const t = f.subject?.name ?? f.attribution.tied.join(' or ');
  if (t === '') return [];
  const failing = (f.outcome === 'OUT-E' || f.outcome === 'OUT-F') && f.relayRefused;
  if (!failing && f.certificateNameNotAccepted === null) return [];
  const out: Remedy[] = [];
  const unattributed = f.subject !== null && f.attribution.tenant === null && f.attribution.tied.length === 0;
  if (failing && unattributed) {
    out.push({
      rank: 1,
      text: `The connection matched no OnPremises connector of ${t}: create one for this source, preferably certificate-based with a TlsSenderCertificateName that is an accepted domain (it passes every message, null senders included; ${acceptedNameExample(f.subject)}), otherwise by IP.`,
    });
  } else if (failing) {
    out.push({
      rank: 1,
      text: `Use a certificate-based OnPremises connector of ${t} whose TlsSenderCertificateName is an accepted domain and send with that client certificate over TLS: it passes every message, including null-sender bounces and out-of-office replies. ${capitalize(acceptedNameExample(f.subject))}.`,
    });
  }
  if (f.certificateNameNotAccepted) {
    out.push({ rank: 2, text: `Add the certificate host name ${f.certificateNameNotAccepted} as an accepted domain of ${t}.` });
  }
  if (failing && !f.p1Accepted) {
    out.push({
      rank: 3,
      text: f.p1IsNull
        ? `Null-sender mail (bounces, automatic replies) relays only over a certificate connector whose certificate name is an accepted domain; for other mail, make the application use an envelope sender (MAIL FROM) in an accepted domain of ${t}.`
        : `Make the application send with an envelope sender (MAIL FROM) in an accepted domain of ${t}${f.p1Domain ? `, or add ${f.p1Domain} as an accepted domain of ${t} if it is yours` : ''}.`,
    });
  }
  if (failing && f.sharedIpTenants.length > 0) {
    out.push({ rank: 4, text: `Do not share an IP-based connector's addresses with another tenant (${f.sharedIpTenants.join(', ')}): attribution by IP is ambiguous.` });
  }
  return out.sort((a, b) => a.rank - b.rank);
}

/**
 * The usual certificate name, mail.<domain>, is not accepted by lying under an accepted domain
 * (relay-policy.md §1: subdomains count only through matchSubDomains): say so, with the tenant's own domain.
 */
function acceptedNameExample(subject: Tenant | null): string {
  const exact = subject?.acceptedDomains.find((d) => !d.matchSubDomains)?.domain;
  const withSubdomains = subject?.acceptedDomains.find((d) => d.matchSubDomains)?.domain;
  if (!exact && withSubdomains) return `the name must itself be an accepted domain, as any name under ${withSubdomains} is (it matches subdomains)`;
  const d = exact ?? '<your domain>';
  return `the name must itself be an accepted domain: a certificate for mail.${d} needs mail.${d} added as an accepted domain${subject ? ` of ${subject.name}` : ''}, one for ${d} works as it is`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
