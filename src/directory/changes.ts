/**
 * The difference between two directories as a list of changes with field-level detail: what
 * `apply` and the fine-grained edits report, and what a dry run shows. Order of items does not count
 * as a change (the policy never depends on it).
 */
import { sameTenantName } from './find-tenant.js';
import type { AcceptedDomain, Directory, InboundConnector, Tenant } from './model.js';

export type ChangeAction = 'add' | 'remove' | 'change';
export type ChangeEntity = 'tenant' | 'acceptedDomain' | 'connector';

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface DirectoryChange {
  action: ChangeAction;
  entity: ChangeEntity;
  tenant: string;
  /** The tenant name, the domain, or the connector name. */
  name: string;
  /** For `change`: which fields differ. Empty for add/remove. */
  fields: FieldChange[];
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((i) => [key(i), i]));
}

function fieldChanges(before: object, after: object, skip: readonly string[]): FieldChange[] {
  const out: FieldChange[] = [];
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const field of Object.keys(a)) {
    if (skip.includes(field)) continue;
    if (!sameValue(b[field], a[field])) out.push({ field, before: b[field], after: a[field] });
  }
  return out;
}

/** Field values are primitives or lists of strings. */
function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
  return x.every((v, i) => v === y[i]);
}

const connectorKey = (c: InboundConnector): string => c.name.toLowerCase();
const domainKey = (d: AcceptedDomain): string => d.domain;

/**
 * Which tenant of `before` each tenant of `after` is: the one with its id, else (when either has
 * no id yet) the one with its name in any case. A tenant renamed in a file that keeps its id is a
 * change of name, not a removal and an addition.
 */
function pairTenants(before: readonly Tenant[], after: readonly Tenant[]): Map<Tenant, Tenant> {
  const pairs = new Map<Tenant, Tenant>();
  const taken = new Set<Tenant>();
  const byId = new Map(before.flatMap((t) => (t.id !== undefined ? [[t.id, t] as const] : [])));
  for (const t of after) {
    const prev = t.id !== undefined ? byId.get(t.id) : undefined;
    if (prev !== undefined) {
      pairs.set(t, prev);
      taken.add(prev);
    }
  }
  for (const t of after) {
    if (pairs.has(t)) continue;
    const prev = before.find((b) => !taken.has(b) && (b.id === undefined || t.id === undefined) && sameTenantName(b.name, t.name));
    if (prev !== undefined) {
      pairs.set(t, prev);
      taken.add(prev);
    }
  }
  return pairs;
}

export function diffDirectories(before: Directory, after: Directory): DirectoryChange[] {
  const changes: DirectoryChange[] = [];
  const pairs = pairTenants(before.tenants, after.tenants);
  const kept = new Set(pairs.values());
  for (const t of before.tenants) {
    if (kept.has(t)) continue;
    changes.push({ action: 'remove', entity: 'tenant', tenant: t.name, name: t.name, fields: [] });
    for (const d of t.acceptedDomains) changes.push(domainChange('remove', t.name, d));
    for (const c of t.inboundConnectors) changes.push(connectorChange('remove', t.name, c));
  }
  for (const t of after.tenants) {
    const prev = pairs.get(t);
    if (prev === undefined) {
      changes.push({ action: 'add', entity: 'tenant', tenant: t.name, name: t.name, fields: [] });
      for (const d of t.acceptedDomains) changes.push(domainChange('add', t.name, d));
      for (const c of t.inboundConnectors) changes.push(connectorChange('add', t.name, c));
      continue;
    }
    // The id is how the tenant is matched, not one of its settings.
    const fields = fieldChanges(prev, t, ['id', 'acceptedDomains', 'inboundConnectors']);
    if (fields.length > 0) changes.push({ action: 'change', entity: 'tenant', tenant: t.name, name: t.name, fields });
    changes.push(...diffItems(t.name, prev.acceptedDomains, t.acceptedDomains, domainKey, domainChange, 'acceptedDomain'));
    changes.push(...diffItems(t.name, prev.inboundConnectors, t.inboundConnectors, connectorKey, connectorChange, 'connector'));
  }
  return changes;
}

function domainChange(action: ChangeAction, tenant: string, d: AcceptedDomain): DirectoryChange {
  return { action, entity: 'acceptedDomain', tenant, name: d.domain, fields: [] };
}

function connectorChange(action: ChangeAction, tenant: string, c: InboundConnector): DirectoryChange {
  return { action, entity: 'connector', tenant, name: c.name, fields: [] };
}

function diffItems<T extends AcceptedDomain | InboundConnector>(
  tenant: string,
  before: readonly T[],
  after: readonly T[],
  key: (t: T) => string,
  make: (action: ChangeAction, tenant: string, item: T) => DirectoryChange,
  entity: ChangeEntity,
): DirectoryChange[] {
  const out: DirectoryChange[] = [];
  const now = byKey(after, key);
  const old = byKey(before, key);
  for (const item of before) if (!now.has(key(item))) out.push(make('remove', tenant, item));
  for (const item of after) {
    const prev = old.get(key(item));
    if (prev === undefined) {
      out.push(make('add', tenant, item));
      continue;
    }
    const fields = fieldChanges(prev, item, []);
    if (fields.length > 0) out.push({ ...make('change', tenant, item), entity, fields });
  }
  return out;
}

const NOUN: Record<ChangeEntity, string> = { tenant: 'tenant', acceptedDomain: 'accepted domain', connector: 'connector' };
const SIGN: Record<ChangeAction, string> = { add: '+', remove: '-', change: '~' };

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One line per change for people: `+ connector contoso/onprem`, `~ tenant contoso: rejectDirectSend false → true`. */
export function formatChange(c: DirectoryChange): string {
  const what = c.entity === 'tenant' ? `tenant ${c.name}` : `${NOUN[c.entity]} ${c.tenant}/${c.name}`;
  const detail = c.fields.map((f) => `${f.field} ${show(f.before)} → ${show(f.after)}`).join(', ');
  return `${SIGN[c.action]} ${what}${detail ? `: ${detail}` : ''}`;
}
