/**
 * Fine-grained directory edits as pure functions: the current directory and an edit in, the whole
 * new directory out, validated by the same rules as a file. Stores run them inside a transaction, so
 * an edit that would make the directory invalid changes nothing.
 */
import { normalizeDomain } from '../core/domain.js';
import { findTenant, sameTenantName } from './find-tenant.js';
import type { Directory } from './model.js';
import type { AcceptedDomainInput, ConnectorInput, TenantInput } from './schema.js';
import { validateDirectory } from './validate.js';
import { RelaygateError } from '../core/errors.js';

export type DirectoryEdit =
  | { op: 'addTenant'; tenant: TenantInput }
  | { op: 'updateTenant'; tenant: string; patch: Partial<Omit<TenantInput, 'id' | 'acceptedDomains' | 'inboundConnectors'>> }
  | { op: 'removeTenant'; tenant: string }
  | { op: 'addDomain'; tenant: string; domain: AcceptedDomainInput }
  | { op: 'removeDomain'; domain: string }
  | { op: 'addConnector'; tenant: string; connector: ConnectorInput }
  | { op: 'updateConnector'; tenant: string; connector: string; patch: Partial<ConnectorInput> }
  | { op: 'removeConnector'; tenant: string; connector: string };

/** The edit names something that does not exist (`not-found`) or that already does (`exists`: code `conflict`). */
export class DirectoryEditError extends RelaygateError {
  constructor(
    message: string,
    readonly kind: 'not-found' | 'exists',
  ) {
    super(kind === 'not-found' ? 'not-found' : 'conflict', message);
    this.name = 'DirectoryEditError';
  }
}

type RawTenant = Record<string, unknown> & { name: string; acceptedDomains: unknown[]; inboundConnectors: unknown[] };

/** Connector names are case-insensitive too. */
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function existingTenant(tenants: RawTenant[], name: string): RawTenant {
  const t = findTenant({ tenants }, name);
  if (!t) throw new DirectoryEditError(`tenant ${name} does not exist`, 'not-found');
  return t;
}

function connectorIndex(t: RawTenant, name: string): number {
  const i = t.inboundConnectors.findIndex((c) => same((c as { name: string }).name, name));
  if (i === -1) throw new DirectoryEditError(`tenant ${t.name} has no connector ${name}`, 'not-found');
  return i;
}

/** Applies one edit; throws DirectoryEditError or DirectoryValidationError and never mutates `dir`. */
export function applyEdit(dir: Directory, edit: DirectoryEdit): Directory {
  const tenants: RawTenant[] = dir.tenants.map((t) => ({
    ...t,
    acceptedDomains: [...t.acceptedDomains],
    inboundConnectors: [...t.inboundConnectors],
  }));
  switch (edit.op) {
    case 'addTenant':
      if (tenants.some((t) => typeof edit.tenant.name === 'string' && sameTenantName(t.name, edit.tenant.name))) {
        throw new DirectoryEditError(`tenant ${edit.tenant.name} already exists`, 'exists');
      }
      tenants.push(edit.tenant as RawTenant);
      break;
    case 'updateTenant': {
      const t = existingTenant(tenants, edit.tenant);
      tenants[tenants.indexOf(t)] = { ...t, ...edit.patch } as RawTenant;
      break;
    }
    case 'removeTenant':
      tenants.splice(tenants.indexOf(existingTenant(tenants, edit.tenant)), 1);
      break;
    case 'addDomain': {
      const t = existingTenant(tenants, edit.tenant);
      // A domain belongs to one tenant (relay-policy.md §1): adding one that has an owner is a
      // conflict with the directory as it is, whichever tenant owns it, not a malformed file.
      const d = typeof edit.domain.domain === 'string' ? normalizeDomain(edit.domain.domain) : null;
      const owner = d === null ? undefined : tenants.find((x) => x.acceptedDomains.some((y) => (y as { domain: string }).domain === d));
      if (owner) throw new DirectoryEditError(`${d} already belongs to tenant ${owner.name}`, 'exists');
      t.acceptedDomains.push(edit.domain);
      break;
    }
    case 'removeDomain': {
      const d = normalizeDomain(edit.domain) ?? edit.domain;
      const owner = tenants.find((t) => t.acceptedDomains.some((x) => (x as { domain: string }).domain === d));
      if (!owner) throw new DirectoryEditError(`${edit.domain} is not an accepted domain of any tenant`, 'not-found');
      owner.acceptedDomains = owner.acceptedDomains.filter((x) => (x as { domain: string }).domain !== d);
      break;
    }
    case 'addConnector': {
      const t = existingTenant(tenants, edit.tenant);
      const name = edit.connector.name;
      if (typeof name === 'string' && t.inboundConnectors.some((c) => same((c as { name: string }).name, name))) {
        throw new DirectoryEditError(`tenant ${t.name} already has a connector ${name}`, 'exists');
      }
      t.inboundConnectors.push(edit.connector);
      break;
    }
    case 'updateConnector': {
      const t = existingTenant(tenants, edit.tenant);
      const i = connectorIndex(t, edit.connector);
      t.inboundConnectors[i] = { ...(t.inboundConnectors[i] as object), ...edit.patch };
      break;
    }
    case 'removeConnector': {
      const t = existingTenant(tenants, edit.tenant);
      t.inboundConnectors.splice(connectorIndex(t, edit.connector), 1);
      break;
    }
  }
  return validateDirectory({ tenants });
}
