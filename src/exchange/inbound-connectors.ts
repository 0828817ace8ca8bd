import type { ConnectorType, InboundConnector } from '../directory/model.js';
import { connectorDefaults } from '../directory/model.js';
import { parseCertificateName } from './certificate-name.js';
import { expectCmdlet } from './cmdlet-signature.js';
import { showValue } from './import-error.js';
import { ipRangeToCidrs } from './ip-range.js';
import { isJsonObject, type JsonObject } from './powershell-json.js';
import { PsRecord } from './ps-record.js';

/** Microsoft.Exchange.Data.TenantConnectorType: OnPremises = 1, Partner = 2. */
const CONNECTOR_TYPES: ReadonlyMap<number, ConnectorType> = new Map([
  [1, 'OnPremises'],
  [2, 'Partner'],
] as const);

export interface ImportedConnectors {
  connectors: InboundConnector[];
  notes: string[];
  ignored: string[];
}

export function importInboundConnectors(objects: JsonObject[], file: string): ImportedConnectors {
  const out: ImportedConnectors = { connectors: [], notes: [], ignored: [] };
  const ignored = new Set<string>();
  objects.forEach((obj, i) => {
    const label = typeof obj.Name === 'string' ? ` ("${obj.Name}")` : '';
    const where = `${file}: Get-InboundConnector object ${i + 1}${label}`;
    expectCmdlet(obj, 'Get-InboundConnector', `${file}: object ${i + 1}${label}`);
    const r = new PsRecord(obj, where);
    const name = r.requiredString('Name').trim();
    const connector: InboundConnector = {
      ...connectorDefaults,
      name,
      type: r.enumValue('ConnectorType', CONNECTOR_TYPES),
      enabled: r.boolean('Enabled', connectorDefaults.enabled),
      senderIPAddresses: readSenderIps(r),
      tlsSenderCertificateName: readCertificateName(r, name, out.notes),
      requireTls: r.boolean('RequireTls', false),
      restrictDomainsToIPAddresses: r.boolean('RestrictDomainsToIPAddresses', false),
      restrictDomainsToCertificate: r.boolean('RestrictDomainsToCertificate', false),
      senderDomains: r.has('SenderDomains') ? readSenderDomains(r) : [...connectorDefaults.senderDomains],
      treatMessagesAsInternal: r.boolean('TreatMessagesAsInternal', false),
      cloudServicesMailEnabled: r.boolean('CloudServicesMailEnabled', false),
      comment: r.optionalString('Comment') ?? '',
    };
    const associated = r.peek('AssociatedAcceptedDomains');
    if (associated !== null && associated !== undefined && JSON.stringify(associated) !== '[]') {
      out.notes.push(
        `connector ${name}: AssociatedAcceptedDomains ${showValue(associated)} is not modelled: relaygate applies the connector to every accepted domain`,
      );
    }
    out.connectors.push(connector);
    for (const key of r.unread()) ignored.add(key);
  });
  out.ignored = [...ignored];
  return out;
}

function readSenderIps(r: PsRecord): string[] {
  const out: string[] = [];
  for (const item of r.list('SenderIPAddresses')) {
    const cidrs = ipRangeToCidrs(item);
    if (cidrs === null) r.fail('SenderIPAddresses', item, 'expected an IP address, address/length or low-high range');
    out.push(...cidrs);
  }
  return out;
}

function readCertificateName(r: PsRecord, connector: string, notes: string[]): string | null {
  const value = r.get('TlsSenderCertificateName');
  const parsed = parseCertificateName(value);
  if (parsed === null) return null;
  if ('error' in parsed) r.fail('TlsSenderCertificateName', value, parsed.error);
  if (parsed.issuer) {
    notes.push(
      `connector ${connector}: certificate issuer "${parsed.issuer}" is not enforced: relaygate matches the subject name ` +
        `${parsed.name} and trusts every CA in tls.clientCa (put only that CA there to pin it)`,
    );
  }
  return parsed.name;
}

/**
 * SenderDomains are AddressSpace values: `smtp:*;1`, `smtp:*.contoso.com;1` (type:address;cost), the
 * bare address, or a serialized object with Address (and Type). Only SMTP address spaces make sense.
 */
function readSenderDomains(r: PsRecord): string[] {
  const out: string[] = [];
  for (const item of r.list('SenderDomains')) {
    let type = 'smtp';
    let address: string | null = null;
    if (typeof item === 'string') {
      const m = /^(?:([a-z0-9]+):)?([^;]+?)(?:;\d+)?$/i.exec(item.trim());
      if (m) {
        type = m[1] ?? 'smtp';
        address = m[2] ?? null;
      }
    } else if (isJsonObject(item)) {
      const field = (n: string): unknown => item[Object.keys(item).find((k) => k.toLowerCase() === n) ?? ''];
      const a = field('address') ?? field('domain');
      address = typeof a === 'string' ? a : isJsonObject(a) && typeof a.Domain === 'string' ? a.Domain : null;
      const t = field('type');
      if (typeof t === 'string') type = t;
    }
    if (address === null || type.toLowerCase() !== 'smtp') r.fail('SenderDomains', item, 'expected an SMTP address space such as "smtp:*.contoso.com;1"');
    out.push(address.trim().toLowerCase());
  }
  return out;
}
