/**
 * The tenant directory (relay-policy.md §1) as plain data. Names follow the contract and the
 * tenants.yaml file format, so the same objects are read from YAML, stored, exported and evaluated.
 * Values here are already validated and canonical (see validate.ts): domains in A-label lower case,
 * IP ranges in CIDR form, certificate names lower case.
 */

export type AcceptedDomainType = 'Authoritative' | 'InternalRelay';
export type ConnectorType = 'OnPremises' | 'Partner';
export type RelayRuleSetSetting = 'auto' | '2023-11' | 'legacy';
export type RuleSet = '2023-11' | 'legacy';
/** Per-connector handling of bare CR/LF in DATA (issue 3): refuse (default) or normalise to CRLF. */
export type BareLineEndingPolicy = 'reject' | 'normalize';

export interface AcceptedDomain {
  domain: string;
  type: AcceptedDomainType;
  matchSubDomains: boolean;
}

export interface InboundConnector {
  name: string;
  type: ConnectorType;
  enabled: boolean;
  /** IPv4/IPv6 addresses and CIDR ranges, canonical CIDR text (`203.0.113.0/24`, `2001:db8::/48`). */
  senderIPAddresses: string[];
  /** A host name or `*.parent`; null when the connector does not match by certificate. */
  tlsSenderCertificateName: string | null;
  requireTls: boolean;
  restrictDomainsToIPAddresses: boolean;
  restrictDomainsToCertificate: boolean;
  /** Partner: P1 domains the connector applies to. `*` = all, `*.d` = d and its subdomains. */
  senderDomains: string[];
  treatMessagesAsInternal: boolean;
  cloudServicesMailEnabled: boolean;
  allowBareLineEndings: BareLineEndingPolicy;
  comment: string;
}

/** Tenant names are case-insensitive (relay-policy.md §1): the key a name is compared and indexed by. */
export function tenantNameKey(name: string): string {
  return name.toLowerCase();
}

/** A tenant's stable id: a ULID, upper case. Per-tenant settings refer to it, never to the name. */
export type TenantId = string;

export interface Tenant {
  name: string;
  /**
   * The stable id. Every tenant a store holds has one; a directory read from a file or built by a
   * command may leave it out for tenants the store has not seen yet (`apply` keeps the id of a
   * tenant it finds by name and gives new tenants a new one).
   */
  id?: TenantId;
  relayRuleSet: RelayRuleSetSetting;
  rejectDirectSend: boolean;
  acceptedDomains: AcceptedDomain[];
  inboundConnectors: InboundConnector[];
}

export interface Directory {
  tenants: Tenant[];
}

/** A tenant as a store holds it: always with its id. */
export interface StoredTenant extends Tenant {
  id: TenantId;
}

/** The directory as a store holds it (what `load()` returns and `export` writes). */
export interface StoredDirectory extends Directory {
  tenants: StoredTenant[];
}

/** Defaults of relay-policy.md §1, applied when a file or command leaves a field out. */
export const connectorDefaults: Omit<InboundConnector, 'name' | 'type'> = Object.freeze({
  enabled: true,
  senderIPAddresses: [],
  tlsSenderCertificateName: null,
  requireTls: false,
  restrictDomainsToIPAddresses: false,
  restrictDomainsToCertificate: false,
  senderDomains: ['*'],
  treatMessagesAsInternal: false,
  cloudServicesMailEnabled: false,
  allowBareLineEndings: 'reject',
  comment: '',
});
