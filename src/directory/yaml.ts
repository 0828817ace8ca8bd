/**
 * tenants.yaml: read into a validated Directory, and written back with a fixed field order and every
 * default spelled out, so export → apply → export is byte-identical. A tenant's id is written when
 * it has one (every stored tenant does), right after its name.
 */
import { Document, isMap, isScalar, isSeq, parse as parseYaml, YAMLParseError, type Node } from 'yaml';
import { describeYamlError } from '../core/yaml-error.js';
import type { AcceptedDomain, Directory, InboundConnector, Tenant } from './model.js';
import { directoryNotes, DirectoryValidationError, validateDirectory } from './validate.js';

export function parseDirectoryYaml(text: string): Directory {
  return readDirectoryYaml(text).directory;
}

/** The directory of a tenants.yaml text, with the notes about what was read differently from how it is written. */
export function readDirectoryYaml(text: string): { directory: Directory; notes: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    throw new DirectoryValidationError([{ path: [], location: '', field: '', reason: describeYamlError(err, text) }]);
  }
  return { directory: validateDirectory(raw), notes: directoryNotes(raw) };
}

function domainOut(d: AcceptedDomain): Record<string, unknown> {
  return { domain: d.domain, type: d.type, matchSubDomains: d.matchSubDomains };
}

function connectorOut(c: InboundConnector): Record<string, unknown> {
  return {
    name: c.name,
    type: c.type,
    enabled: c.enabled,
    senderIPAddresses: [...c.senderIPAddresses],
    tlsSenderCertificateName: c.tlsSenderCertificateName,
    requireTls: c.requireTls,
    restrictDomainsToIPAddresses: c.restrictDomainsToIPAddresses,
    restrictDomainsToCertificate: c.restrictDomainsToCertificate,
    senderDomains: [...c.senderDomains],
    treatMessagesAsInternal: c.treatMessagesAsInternal,
    cloudServicesMailEnabled: c.cloudServicesMailEnabled,
    allowBareLineEndings: c.allowBareLineEndings,
    comment: c.comment,
  };
}

function tenantOut(t: Tenant): Record<string, unknown> {
  return {
    name: t.name,
    ...(t.id !== undefined ? { id: t.id } : {}),
    relayRuleSet: t.relayRuleSet,
    rejectDirectSend: t.rejectDirectSend,
    acceptedDomains: t.acceptedDomains.map(domainOut),
    inboundConnectors: t.inboundConnectors.map(connectorOut),
  };
}

/**
 * Short lists and accepted domains are written in flow style, as in the documented format. IPv6
 * entries are double-quoted there: YAML 1.1 readers refuse a plain `:` inside a flow list.
 */
function styleFlow(node: Node | null | undefined, key: string | null): void {
  if (isScalar(node)) {
    if (typeof node.value === 'string' && node.value.includes(':')) node.type = 'QUOTE_DOUBLE';
  } else if (isSeq(node)) {
    if (key === 'senderIPAddresses' || key === 'senderDomains' || node.items.length === 0) node.flow = true;
    for (const item of node.items) styleFlow(item as Node, key === 'acceptedDomains' ? 'acceptedDomain' : null);
  } else if (isMap(node)) {
    if (key === 'acceptedDomain') node.flow = true;
    for (const pair of node.items) {
      const k = pair.key as { value?: unknown } | null;
      styleFlow(pair.value as Node, typeof k?.value === 'string' ? k.value : null);
    }
  }
}

export function serializeDirectoryYaml(dir: Directory): string {
  // Quoting by YAML 1.1 rules too (yes, on, 1_000, dates), so readers of either version agree.
  const doc = new Document({ tenants: dir.tenants.map(tenantOut) }, { version: '1.1' });
  styleFlow(doc.contents as Node, null);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true, nullStr: 'null' });
}
