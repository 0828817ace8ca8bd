import { normalizeDomain } from '../core/domain.js';
import type { AcceptedDomain, AcceptedDomainType } from '../directory/model.js';
import { expectCmdlet } from './cmdlet-signature.js';
import { ExchangeImportError } from './import-error.js';
import { isJsonObject, type JsonObject } from './powershell-json.js';
import { PsRecord } from './ps-record.js';

/** Microsoft.Exchange.Data.Directory.SystemConfiguration.AcceptedDomainType, in .NET order. */
const DOMAIN_TYPES: ReadonlyMap<number, AcceptedDomainType | 'ExternalRelay'> = new Map([
  [0, 'Authoritative'],
  [1, 'ExternalRelay'],
  [2, 'InternalRelay'],
] as const);

export interface ImportedAcceptedDomains {
  domains: AcceptedDomain[];
  /** The domain marked Default, and the tenant's initial `*.onmicrosoft.com` domain, if exported. */
  defaultDomain: string | null;
  initialDomain: string | null;
  /** Remarks for the admin about values kept or not enforced. */
  notes: string[];
  /** Properties present in the export that relaygate does not model, each once, in first-seen order. */
  ignored: string[];
}

export function importAcceptedDomains(objects: JsonObject[], file: string): ImportedAcceptedDomains {
  const out: ImportedAcceptedDomains = { domains: [], defaultDomain: null, initialDomain: null, notes: [], ignored: [] };
  if (objects.length === 0) throw new ExchangeImportError(`${file}: no accepted domains in the export`);
  const ignored = new Set<string>();
  objects.forEach((obj, i) => {
    const label = typeof obj.DomainName === 'string' ? ` ("${obj.DomainName}")` : typeof obj.Name === 'string' ? ` ("${obj.Name}")` : '';
    const where = `${file}: Get-AcceptedDomain object ${i + 1}${label}`;
    expectCmdlet(obj, 'Get-AcceptedDomain', `${file}: object ${i + 1}${label}`);
    const r: PsRecord = new PsRecord(obj, where);
    const { domain, wildcard } = readDomainName(r);
    const type: AcceptedDomainType | 'ExternalRelay' = r.enumValue('DomainType', DOMAIN_TYPES);
    if (type === 'ExternalRelay') {
      r.fail('DomainType', r.get('DomainType'), 'ExternalRelay exists only in on-premises Exchange; Exchange Online and relaygate use Authoritative or InternalRelay');
    }
    const matchSubDomains = r.boolean('MatchSubDomains', false) || wildcard;
    if (r.boolean('Default', false)) out.defaultDomain = domain;
    if (r.boolean('InitialDomain', false)) out.initialDomain = domain;
    if (r.boolean('OutboundOnly', false)) {
      out.notes.push(`${domain}: OutboundOnly is set; kept as an accepted domain (it still counts for the relay rule)`);
    }
    out.domains.push({ domain, type, matchSubDomains });
    for (const key of r.unread()) ignored.add(key);
  });
  out.ignored = [...ignored];
  return out;
}

/** DomainName is a SmtpDomainWithSubdomains: `contoso.com`, `*.contoso.com`, or an object with Domain. */
function readDomainName(r: PsRecord): { domain: string; wildcard: boolean } {
  const value = r.requireProperty('DomainName');
  let text: string | null = null;
  let wildcard = false;
  if (typeof value === 'string') text = value.trim();
  else if (isJsonObject(value)) {
    const field = (name: string): unknown => value[Object.keys(value).find((k) => k.toLowerCase() === name) ?? ''];
    const d = field('domain') ?? field('address');
    text = typeof d === 'string' ? d.trim() : null;
    wildcard = field('includesubdomains') === true;
  }
  if (text?.startsWith('*.')) {
    wildcard = true;
    text = text.slice(2);
  }
  const domain = text === null ? null : normalizeDomain(text);
  if (domain === null) r.fail('DomainName', value, 'expected a domain name');
  return { domain, wildcard };
}
