/**
 * The directory most SMTP integration tests run against. Source addresses: 127.0.0.1 and ::1 are
 * contoso's applications; 127.0.0.2 is oldco (legacy rule set); 127.0.0.3 is a legacy device
 * whose connector normalises bare line endings; 127.0.0.4 is nobody's; 127.0.0.7 is fabrikam's
 * partner, the only source allowed for partner.example mail to fabrikam.
 */
export const testDirectoryYaml = `
tenants:
  - name: contoso
    acceptedDomains:
      - { domain: contoso.example }
      - { domain: relay.contoso.example }
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [127.0.0.1/32, "::1/128"] }
      - { name: mailserver, type: OnPremises, tlsSenderCertificateName: relay.contoso.example }
      - { name: secure-apps, type: OnPremises, senderIPAddresses: [127.0.0.5/32], requireTls: true }
  - name: oldco
    relayRuleSet: legacy
    acceptedDomains:
      - { domain: oldco.example }
    inboundConnectors:
      - { name: scanner, type: OnPremises, senderIPAddresses: [127.0.0.2/32] }
  - name: devices
    acceptedDomains:
      - { domain: devices.example }
    inboundConnectors:
      - { name: printers, type: OnPremises, senderIPAddresses: [127.0.0.3/32], allowBareLineEndings: normalize }
  - name: fabrikam
    rejectDirectSend: true
    acceptedDomains:
      - { domain: fabrikam.example }
    inboundConnectors:
      - { name: partner, type: Partner, senderDomains: [partner.example], senderIPAddresses: [127.0.0.7/32], restrictDomainsToIPAddresses: true }
      - { name: secure-partner, type: Partner, senderDomains: [secure-partner.example], requireTls: true }
`;

/**
 * Two tenants for serve tests: TENANT (domain TENANT.example) whose `servers` connector is
 * 127.0.0.1, and `saas` under the legacy rule set whose `app` connector is 127.0.0.5.
 */
export function tenantAndLegacySaasYaml(tenant: string): string {
  return `
tenants:
  - name: ${tenant}
    acceptedDomains: [{ domain: ${tenant}.example }]
    inboundConnectors:
      - { name: servers, type: OnPremises, senderIPAddresses: [127.0.0.1/32] }
  - name: saas
    relayRuleSet: legacy
    acceptedDomains: [{ domain: saas.example }]
    inboundConnectors:
      - { name: app, type: OnPremises, senderIPAddresses: [127.0.0.5/32] }
`;
}
