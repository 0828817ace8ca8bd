/**
 * Validation of a whole directory: shape and per-item rules from schema.ts plus the rules that span
 * items (duplicate tenant and connector names, a domain owned twice). Every problem is collected and
 * reported with the tenant, the item, the field and the reason; nothing is partially accepted.
 */
import type { z } from 'zod';
import { didYouMean } from '../core/did-you-mean.js';
import { normalizeDomain } from '../core/domain.js';
import { hostBitsCleared } from '../core/ip-prefix.js';
import type { Directory } from './model.js';
import { directorySchema } from './schema.js';
import { RelaygateError } from '../core/errors.js';

type Path = readonly (string | number)[];

export interface DirectoryIssue {
  /** Where in the input: ['tenants', 0, 'inboundConnectors', 1, 'requireTls']. */
  path: Path;
  /** `tenant contoso, connector onprem`, or index form when the item has no usable name. */
  location: string;
  /** The field inside the item: `senderIPAddresses[1]`. */
  field: string;
  reason: string;
}

export function formatIssue(i: DirectoryIssue): string {
  return [i.location, i.field, i.reason].filter((s) => s !== '').join(': ');
}

export class DirectoryValidationError extends RelaygateError {
  constructor(readonly issues: readonly DirectoryIssue[]) {
    super('invalid', `invalid directory (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n  ${issues.map(formatIssue).join('\n  ')}`, {
      details: { issues },
    });
    this.name = 'DirectoryValidationError';
  }

  /** One line per problem. */
  get lines(): string[] {
    return this.issues.map(formatIssue);
  }
}

/** Returns the canonical directory with defaults filled, or throws DirectoryValidationError. */
export function validateDirectory(input: unknown): Directory {
  const raw = input === null || input === undefined ? {} : input;
  const parsed = directorySchema.safeParse(raw, { reportInput: true });
  const issues: DirectoryIssue[] = [];
  if (!parsed.success) {
    for (const zi of parsed.error.issues) issues.push(...fromZod(raw, zi));
  }
  for (const [path, reason] of crossItemProblems(raw)) issues.push(issueAt(raw, path, reason));
  if (issues.length > 0 || !parsed.success) throw new DirectoryValidationError(sortIssues(issues));
  return parsed.data;
}

function fromZod(raw: unknown, zi: z.core.$ZodIssue): DirectoryIssue[] {
  const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (zi.code === 'unrecognized_keys') {
    return zi.keys.map((k) => issueAt(raw, [...path, k], `unknown key${didYouMean(k, KNOWN_KEYS)}`));
  }
  if (zi.code === 'invalid_type') {
    const reason = zi.input === undefined ? 'required' : `expected ${zi.expected === 'boolean' ? 'true or false' : zi.expected}, got ${describe(zi.input)}`;
    return [issueAt(raw, path, reason)];
  }
  return [issueAt(raw, path, zi.message)];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const KNOWN_KEYS = [
  'tenants', 'name', 'id', 'relayRuleSet', 'rejectDirectSend', 'acceptedDomains', 'inboundConnectors', 'domain', 'type',
  'matchSubDomains', 'enabled', 'senderIPAddresses', 'tlsSenderCertificateName', 'requireTls',
  'restrictDomainsToIPAddresses', 'restrictDomainsToCertificate', 'senderDomains', 'treatMessagesAsInternal',
  'cloudServicesMailEnabled', 'allowBareLineEndings', 'comment',
];

function at(v: unknown, key: string | number): unknown {
  if (typeof v !== 'object' || v === null) return undefined;
  return (v as Record<string | number, unknown>)[key];
}

/** Splits a path into the item it names (tenant, domain, connector) and the field within it. */
export function issueAt(raw: unknown, path: Path, reason: string): DirectoryIssue {
  const parts: string[] = [];
  let node = raw;
  let i = 0;
  if (path[0] === 'tenants' && typeof path[1] === 'number') {
    node = at(at(raw, 'tenants'), path[1]);
    const name = at(node, 'name');
    parts.push(typeof name === 'string' && name !== '' ? `tenant ${name}` : `tenants[${path[1]}]`);
    i = 2;
    const list = path[2];
    if ((list === 'acceptedDomains' || list === 'inboundConnectors') && typeof path[3] === 'number') {
      const item = at(at(node, list), path[3]);
      const key = list === 'acceptedDomains' ? at(item, 'domain') : at(item, 'name');
      const noun = list === 'acceptedDomains' ? 'accepted domain' : 'connector';
      parts.push(typeof key === 'string' && key !== '' ? `${noun} ${key}` : `${list}[${path[3]}]`);
      i = 4;
    }
  }
  let field = '';
  for (const p of path.slice(i)) field += typeof p === 'number' ? `[${p}]` : field === '' ? p : `.${p}`;
  return { path, location: parts.join(', '), field, reason };
}

/**
 * What a valid input says that the directory stores differently, for the person to check: an IP
 * range written with host bits set is stored as its network (`198.51.100.7/24` → `198.51.100.0/24`).
 */
export function directoryNotes(input: unknown): string[] {
  const notes: string[] = [];
  const tenants = at(input, 'tenants');
  if (!Array.isArray(tenants)) return notes;
  tenants.forEach((tenant: unknown, t) => {
    const connectors = at(tenant, 'inboundConnectors');
    if (!Array.isArray(connectors)) return;
    connectors.forEach((c: unknown, i) => {
      const ips = at(c, 'senderIPAddresses');
      if (!Array.isArray(ips)) return;
      ips.forEach((ip: unknown, j) => {
        const cleared = typeof ip === 'string' ? hostBitsCleared(ip) : null;
        if (cleared) notes.push(formatIssue(issueAt(input, ['tenants', t, 'inboundConnectors', i, 'senderIPAddresses', j], hostBitsNote(ip as string, cleared))));
      });
    });
  });
  return notes;
}

export function hostBitsNote(given: string, cleared: string): string {
  return `${given} has host bits set: it matches ${cleared}, and is stored so`;
}

function* crossItemProblems(raw: unknown): Generator<[Path, string]> {
  const tenants = at(raw, 'tenants');
  if (!Array.isArray(tenants)) return;
  // Rules that span fields or items read the raw input, so they hold even when a neighbour is malformed.
  const tenantByName = new Map<string, number>();
  const tenantById = new Map<string, number>();
  const domainOwner = new Map<string, { tenant: number; name: string }>();
  for (let t = 0; t < tenants.length; t++) {
    const tenant: unknown = tenants[t];
    const name = at(tenant, 'name');
    if (typeof name === 'string' && name !== '') {
      const first = tenantByName.get(name.toLowerCase());
      if (first !== undefined) yield [['tenants', t, 'name'], `duplicate tenant name; tenants[${first}] has it too`];
      else tenantByName.set(name.toLowerCase(), t);
    }
    const id = at(tenant, 'id');
    if (typeof id === 'string' && id !== '') {
      const first = tenantById.get(id.toUpperCase());
      if (first !== undefined) yield [['tenants', t, 'id'], `duplicate tenant id; tenants[${first}] has it too`];
      else tenantById.set(id.toUpperCase(), t);
    }
    const domains = at(tenant, 'acceptedDomains');
    if (Array.isArray(domains)) {
      for (let d = 0; d < domains.length; d++) {
        const dtype = at(domains[d], 'type') ?? 'Authoritative';
        if (at(domains[d], 'matchSubDomains') === true && dtype === 'Authoritative') {
          yield [['tenants', t, 'acceptedDomains', d, 'matchSubDomains'], 'allowed only on InternalRelay domains, not on Authoritative'];
        }
        const text = at(domains[d], 'domain');
        const domain = typeof text === 'string' ? normalizeDomain(text) : null;
        if (domain === null) continue;
        const owner = domainOwner.get(domain);
        if (owner === undefined) domainOwner.set(domain, { tenant: t, name: typeof name === 'string' ? name : `tenants[${t}]` });
        else if (owner.tenant === t) yield [['tenants', t, 'acceptedDomains', d, 'domain'], `${domain} is listed twice in this tenant`];
        else yield [['tenants', t, 'acceptedDomains', d, 'domain'], `${domain} is already an accepted domain of tenant ${owner.name}`];
      }
    }
    const connectors = at(tenant, 'inboundConnectors');
    if (Array.isArray(connectors)) {
      const seen = new Set<string>();
      for (let c = 0; c < connectors.length; c++) {
        yield* connectorRuleProblems(connectors[c], ['tenants', t, 'inboundConnectors', c]);
        const cname = at(connectors[c], 'name');
        if (typeof cname !== 'string' || cname === '') continue;
        if (seen.has(cname.toLowerCase())) yield [['tenants', t, 'inboundConnectors', c, 'name'], 'duplicate connector name in this tenant'];
        seen.add(cname.toLowerCase());
      }
    }
  }
}

function* connectorRuleProblems(c: unknown, path: Path): Generator<[Path, string]> {
  const ips = at(c, 'senderIPAddresses');
  const cert = at(c, 'tlsSenderCertificateName');
  const noIps = ips === undefined || (Array.isArray(ips) && ips.length === 0);
  if (at(c, 'type') === 'OnPremises' && noIps && (cert === undefined || cert === null)) {
    yield [[...path, 'senderIPAddresses'], 'an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName'];
  }
  if (at(c, 'treatMessagesAsInternal') === true && at(c, 'cloudServicesMailEnabled') === true) {
    yield [[...path, 'treatMessagesAsInternal'], 'cannot be combined with cloudServicesMailEnabled'];
  }
}

/** Orders problems by tenant, then by item within the tenant; a stable sort keeps the rest in order. */
function sortIssues(issues: DirectoryIssue[]): DirectoryIssue[] {
  const key = (p: Path): number[] => {
    const tenant = p[0] === 'tenants' && typeof p[1] === 'number' ? p[1] : -1;
    const list = p[2] === 'acceptedDomains' ? 1 : p[2] === 'inboundConnectors' ? 2 : 0;
    const item = list !== 0 && typeof p[3] === 'number' ? p[3] : -1;
    return [tenant, list, item];
  };
  return issues
    .map((issue) => ({ issue, k: key(issue.path) }))
    .sort((a, b) => a.k[0]! - b.k[0]! || a.k[1]! - b.k[1]! || a.k[2]! - b.k[2]!)
    .map((e) => e.issue);
}
