import { isSameOrSubdomain, normalizeDomain, type Domain } from '../core/domain.js';
import type { Tenant } from '../directory/model.js';
import { certificateNameMatches } from './certificate-name.js';
import { prefixContains, type ParsedPrefix } from '../core/ip-prefix.js';
import type { DirectorySnapshot, IndexedConnector } from './snapshot.js';

/** How an inbound connection looks to a recipient tenant's connectors. */
export interface SourceIdentity {
  ip: ParsedPrefix | null;
  certificateNames: readonly string[];
}

export function connectorMatchesIp(ic: IndexedConnector, source: SourceIdentity): boolean {
  return source.ip !== null && ic.prefixes.some((p) => prefixContains(p, source.ip!));
}

export function connectorMatchesCertificate(ic: IndexedConnector, source: SourceIdentity): boolean {
  return ic.certificatePattern !== null && source.certificateNames.some((n) => certificateNameMatches(ic.certificatePattern!, n));
}

/** Partner `senderDomains`: `*` = every sender (the null sender too), `*.d` = d and subdomains, `d` = d. */
export function senderDomainsCover(senderDomains: readonly string[], p1: Domain | null): boolean {
  return senderDomains.some((entry) => {
    if (entry === '*') return true;
    if (p1 === null) return false;
    if (entry.startsWith('*.')) {
      const parent = normalizeDomain(entry.slice(2));
      return parent !== null && isSameOrSubdomain(p1, parent);
    }
    return normalizeDomain(entry) === p1;
  });
}

/** The recipient tenant's enabled Partner connectors that apply to this mail (relay-policy.md §4.3). */
export function applicablePartnerConnectors(
  snapshot: DirectorySnapshot,
  tenant: Tenant,
  source: SourceIdentity,
  p1: Domain | null,
): IndexedConnector[] {
  return snapshot
    .connectorsOf(tenant)
    .filter(
      (ic) =>
        ic.connector.enabled &&
        ic.connector.type === 'Partner' &&
        (senderDomainsCover(ic.connector.senderDomains, p1) ||
          connectorMatchesIp(ic, source) ||
          connectorMatchesCertificate(ic, source)),
    );
}

/** Does any enabled connector of the tenant (either type) recognise the source? For Direct Send. */
export function anyConnectorMatchesSource(snapshot: DirectorySnapshot, tenant: Tenant, source: SourceIdentity): boolean {
  return snapshot
    .connectorsOf(tenant)
    .some((ic) => ic.connector.enabled && (connectorMatchesIp(ic, source) || connectorMatchesCertificate(ic, source)));
}
