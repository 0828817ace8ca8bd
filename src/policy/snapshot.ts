import { compareText, parentDomains, type Domain } from '../core/domain.js';
import { tenantNameKey, type AcceptedDomain, type Directory, type InboundConnector, type Tenant, type TenantId } from '../directory/model.js';
import { lookupKeysForPresentedName, parseCertificateNamePattern, patternKey, type CertificateNamePattern } from './certificate-name.js';
import { parsePrefix, type ParsedPrefix } from '../core/ip-prefix.js';
import { IpPrefixIndex } from './ip-prefix-index.js';

/** A connector with its parsed matching data and owner. */
export interface IndexedConnector {
  tenant: Tenant;
  connector: InboundConnector;
  certificatePattern: CertificateNamePattern | null;
  prefixes: ParsedPrefix[];
}

interface DomainEntry {
  tenant: Tenant;
  accepted: AcceptedDomain;
}

/**
 * The directory indexed for decisions: domains in maps, certificate names by key, IP ranges in a
 * prefix trie. Built once per directory revision; every lookup is independent of the tenant count.
 */
export class DirectorySnapshot {
  readonly tenants: readonly Tenant[];
  private readonly tenantsByName = new Map<string, Tenant>();
  private readonly tenantsById = new Map<TenantId, Tenant>();
  private readonly exactDomains = new Map<string, DomainEntry>();
  private readonly subdomainParents = new Map<string, DomainEntry>();
  private readonly onPremisesByCertificate = new Map<string, IndexedConnector[]>();
  private readonly onPremisesByIp = new IpPrefixIndex<IndexedConnector>();
  private readonly enabledConnectorRanges = new IpPrefixIndex<true>();
  private readonly connectorsByTenant = new Map<string, IndexedConnector[]>();

  constructor(directory: Directory) {
    this.tenants = directory.tenants;
    for (const tenant of directory.tenants) {
      this.tenantsByName.set(tenantNameKey(tenant.name), tenant);
      if (tenant.id !== undefined) this.tenantsById.set(tenant.id, tenant);
      for (const accepted of tenant.acceptedDomains) {
        const key = accepted.domain.toLowerCase();
        this.exactDomains.set(key, { tenant, accepted });
        if (accepted.matchSubDomains) this.subdomainParents.set(key, { tenant, accepted });
      }
      const indexed = [...tenant.inboundConnectors]
        .sort((a, b) => compareText(a.name, b.name))
        .map((connector) => indexConnector(tenant, connector));
      this.connectorsByTenant.set(tenant.name, indexed);
      for (const ic of indexed) {
        if (ic.connector.enabled) for (const p of ic.prefixes) this.enabledConnectorRanges.insert(p, true);
        if (!ic.connector.enabled || ic.connector.type !== 'OnPremises') continue;
        if (ic.certificatePattern) {
          const key = patternKey(ic.certificatePattern);
          const list = this.onPremisesByCertificate.get(key) ?? [];
          list.push(ic);
          this.onPremisesByCertificate.set(key, list);
        }
        for (const p of ic.prefixes) this.onPremisesByIp.insert(p, ic);
      }
    }
  }

  /** The tenant of that name, in any case (names are case-insensitive, as in the directory). */
  tenant(name: string): Tenant | undefined {
    return this.tenantsByName.get(tenantNameKey(name));
  }

  /** The tenant with this id, whatever it is called now. */
  tenantById(id: TenantId): Tenant | undefined {
    return this.tenantsById.get(id);
  }

  /** The tenant that accepts domain d (relay-policy.md §1): exact, or a matchSubDomains ancestor. */
  acceptingTenant(d: Domain): Tenant | null {
    const exact = this.exactDomains.get(d);
    if (exact) return exact.tenant;
    for (const parent of parentDomains(d)) {
      const entry = this.subdomainParents.get(parent);
      if (entry) return entry.tenant;
    }
    return null;
  }

  isAcceptedBy(d: Domain | null, tenant: Tenant): boolean {
    return d !== null && this.acceptingTenant(d)?.name === tenant.name;
  }

  /** Enabled OnPremises connectors (any tenant) whose certificate name matches a presented name. */
  onPremisesMatchingCertificate(names: readonly string[]): IndexedConnector[] {
    const found = new Set<IndexedConnector>();
    for (const name of names) {
      for (const key of lookupKeysForPresentedName(name)) {
        for (const ic of this.onPremisesByCertificate.get(key) ?? []) found.add(ic);
      }
    }
    return [...found];
  }

  /** Enabled OnPremises connectors (any tenant) whose sender IP ranges contain the address. */
  onPremisesMatchingIp(ip: string): IndexedConnector[] {
    return [...new Set(this.onPremisesByIp.lookup(ip))];
  }

  /**
   * Does the address lie in a sender IP range of any enabled connector (any tenant, any type)?
   * A fact about the directory, not a relay decision: the connection limits reserve capacity
   * for such sources. Connectors with only a certificate name cannot match before TLS.
   */
  matchesConnectorRange(ip: string): boolean {
    return this.enabledConnectorRanges.lookup(ip).length > 0;
  }

  /** OnPremises connectors of other tenants whose ranges overlap the given prefix. */
  onPremisesOverlapping(prefix: ParsedPrefix): IndexedConnector[] {
    return [...new Set(this.onPremisesByIp.overlapping(prefix))];
  }

  /** A tenant's connectors, sorted by name. */
  connectorsOf(tenant: Tenant): readonly IndexedConnector[] {
    return this.connectorsByTenant.get(tenant.name) ?? [];
  }
}

function indexConnector(tenant: Tenant, connector: InboundConnector): IndexedConnector {
  return {
    tenant,
    connector,
    certificatePattern: connector.tlsSenderCertificateName
      ? parseCertificateNamePattern(connector.tlsSenderCertificateName)
      : null,
    prefixes: connector.senderIPAddresses.map(parsePrefix).filter((p): p is ParsedPrefix => p !== null),
  };
}

export function buildSnapshot(directory: Directory): DirectorySnapshot {
  return new DirectorySnapshot(directory);
}
