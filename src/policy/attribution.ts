import { compareText, type Domain } from '../core/domain.js';
import type { InboundConnector, Tenant } from '../directory/model.js';
import { certificateNameDomain, certificateNameMatches } from './certificate-name.js';
import type { DirectorySnapshot, IndexedConnector } from './snapshot.js';
import type { AttributionKind } from './types.js';

/** Who owns a connection (relay-policy.md §3), with the evidence the explanation needs. */
export interface Attribution {
  tenant: Tenant | null;
  /** The connector of `tenant` that matched: a certificate match beats an IP match, then by name. */
  connector: InboundConnector | null;
  kind: AttributionKind;
  /** How the connector matched the connection (independent of how a tie was broken). */
  matchedBy: 'cert' | 'ip' | null;
  /** The presented certificate names that matched one of the tenant's connectors. */
  matchedCertificateNames: string[];
  certificateCandidates: IndexedConnector[];
  ipCandidates: IndexedConnector[];
  /** Tenants left tied after every tie-break; empty unless attribution failed on a tie. */
  tied: string[];
  /** Which tie-break decided, when one was needed. */
  tieBreak: 'certificate-accepted-domain' | 'p1' | 'recipient' | null;
}

export interface AttributionFacts {
  ip: string;
  certificateNames: readonly string[];
  p1Domain: Domain | null;
  /** Known per recipient only; omitted at connection/MAIL time. */
  recipientDomain?: Domain | null;
}

export function attribute(snapshot: DirectorySnapshot, facts: AttributionFacts): Attribution {
  const certificateCandidates = snapshot.onPremisesMatchingCertificate(facts.certificateNames);
  const ipCandidates = snapshot.onPremisesMatchingIp(facts.ip);
  const base = { certificateCandidates, ipCandidates, tied: [] as string[], tieBreak: null };

  const fromCertificate = tenantsOf(certificateCandidates);
  const candidates = fromCertificate.length > 0 ? fromCertificate : tenantsOf(ipCandidates);
  if (candidates.length === 0) {
    return { ...base, tenant: null, connector: null, kind: 'none', matchedBy: null, matchedCertificateNames: [] };
  }

  let chosen: Tenant | null = candidates.length === 1 ? candidates[0]! : null;
  let kind: AttributionKind = fromCertificate.length > 0 ? 'cert' : 'ip';
  let tieBreak: Attribution['tieBreak'] = null;
  // Each tie-break narrows the tied set, like successive sort keys (our reading of §3.3's "order"):
  // a later one never brings back a tenant an earlier one excluded; one nobody passes changes nothing.
  let tied = candidates;
  if (!chosen) {
    const tieBreaks: Array<[NonNullable<Attribution['tieBreak']>, AttributionKind, (t: Tenant) => boolean]> = [
      ['certificate-accepted-domain', 'cert', (t) => facts.certificateNames.some((n) => snapshot.isAcceptedBy(certificateNameDomain(n), t))],
      ['p1', 'p1', (t) => snapshot.isAcceptedBy(facts.p1Domain, t)],
      ['recipient', 'rcpt', (t) => facts.recipientDomain !== undefined && snapshot.isAcceptedBy(facts.recipientDomain, t)],
    ];
    for (const [name, k, test] of tieBreaks) {
      const passing = tied.filter(test);
      if (passing.length === 1) {
        chosen = passing[0]!;
        kind = k;
        tieBreak = name;
        break;
      }
      if (passing.length > 1) tied = passing;
    }
  }
  if (!chosen) {
    return {
      ...base,
      tenant: null,
      connector: null,
      kind: 'none',
      matchedBy: null,
      matchedCertificateNames: [],
      tied: tied.map((t) => t.name).sort(),
    };
  }

  const own = (list: IndexedConnector[]) => list.filter((ic) => ic.tenant.name === chosen!.name);
  const byCertificate = own(certificateCandidates);
  const pick = byCertificate.length > 0 ? byCertificate : own(ipCandidates);
  const connector = [...pick].sort((a, b) => compareText(a.connector.name, b.connector.name))[0]!;
  const matchedCertificateNames =
    byCertificate.length > 0 ? certificateNamesMatching(byCertificate, facts.certificateNames) : [];
  return {
    ...base,
    tenant: chosen,
    connector: connector.connector,
    kind,
    matchedBy: byCertificate.length > 0 ? 'cert' : 'ip',
    matchedCertificateNames,
    tieBreak,
  };
}

function tenantsOf(list: IndexedConnector[]): Tenant[] {
  const seen = new Map<string, Tenant>();
  for (const ic of list) seen.set(ic.tenant.name, ic.tenant);
  return [...seen.values()].sort((a, b) => compareText(a.name, b.name));
}

function certificateNamesMatching(connectors: IndexedConnector[], names: readonly string[]): string[] {
  return names.filter((n) =>
    connectors.some((ic) => ic.certificatePattern !== null && certificateNameMatches(ic.certificatePattern, n)),
  );
}
