import type { Tenant } from '../directory/model.js';
import { certificateNameDomain } from './certificate-name.js';
import { formatPrefix } from '../core/ip-prefix.js';
import type { DirectorySnapshot, IndexedConnector } from './snapshot.js';
import type { Finding } from './types.js';

/**
 * Warnings the checker raises even when mail passes (relay-policy.md §6), and the entries Exchange
 * Online itself would refuse (it takes only single IPv4 addresses and /24–/32 ranges).
 * One implementation, used by evaluate() for the matched connector and by the tenant audit.
 */
export function connectorFindings(snapshot: DirectorySnapshot, ic: IndexedConnector): readonly Finding[] {
  // A snapshot never changes, so neither do its connectors' findings: compute them once, not at
  // every RCPT that the connector attributes (the overlap search walks the prefix trie).
  let found = findingsCache.get(ic);
  if (!found) findingsCache.set(ic, (found = Object.freeze(computeConnectorFindings(snapshot, ic))));
  return found;
}

const findingsCache = new WeakMap<IndexedConnector, readonly Finding[]>();

function computeConnectorFindings(snapshot: DirectorySnapshot, ic: IndexedConnector): Finding[] {
  const { tenant, connector } = ic;
  const at = { tenant: tenant.name, connector: connector.name };
  const out: Finding[] = [];
  for (const p of ic.prefixes) {
    const text = formatPrefix(p);
    if (p.family === 'ipv6') {
      out.push({ code: 'exo-refuses-ipv6', message: `${text}: Exchange Online accepts only IPv4 entries in SenderIPAddresses; relaygate accepts it.`, ...at });
    } else if (p.length < 24) {
      out.push({ code: 'exo-refuses-range', message: `${text}: Exchange Online accepts only single IPv4 addresses and /24 to /32 ranges; relaygate accepts it.`, ...at });
    }
    if ((p.family === 'ipv4' && p.length < 24) || (p.family === 'ipv6' && p.length < 48)) {
      out.push({ code: 'ip-range-wide', message: `${text} is wider than /${p.family === 'ipv4' ? 24 : 48}: every host in it can relay as ${tenant.name}.`, ...at });
    }
    if (connector.type === 'OnPremises' && connector.enabled) {
      const others = [...new Set(snapshot.onPremisesOverlapping(p).filter((o) => o.tenant.name !== tenant.name).map((o) => o.tenant.name))].sort();
      if (others.length > 0) {
        out.push({ code: 'ip-range-shared', message: `${text} overlaps OnPremises connectors of ${others.join(', ')}: attribution by IP becomes ambiguous: give each tenant its own addresses.`, ...at });
      }
    }
  }
  const pattern = ic.certificatePattern;
  if (pattern && connector.type === 'OnPremises') {
    if (pattern.kind === 'wildcard') {
      out.push({ code: 'wildcard-certificate-name', message: `TlsSenderCertificateName *.${pattern.parent} is allowed but not recommended: any certificate under ${pattern.parent} is attributed to ${tenant.name}.`, ...at });
    }
    const name = pattern.kind === 'exact' ? pattern.name : pattern.parent;
    if (!snapshot.isAcceptedBy(certificateNameDomain(name), tenant)) {
      out.push({ code: 'certificate-name-not-accepted', message: `Certificate name ${name} is not an accepted domain of ${tenant.name}: mail on this connector relays only when the envelope sender domain is accepted (add ${name} as an accepted domain).`, ...at });
    }
  }
  return out;
}

export function tenantFindings(snapshot: DirectorySnapshot, tenant: Tenant): Finding[] {
  const onPrem = snapshot.connectorsOf(tenant).filter((ic) => ic.connector.type === 'OnPremises' && ic.connector.enabled);
  if (onPrem.length > 0) return [];
  return [
    {
      code: 'no-onpremises-connector',
      message: `${tenant.name} has no enabled OnPremises connector: the rule change does not affect it, and it cannot relay.`,
      tenant: tenant.name,
    },
  ];
}
