/**
 * Tenant names are case-insensitive (relay-policy.md §1): `demo`, `Demo` and `DEMO` are one tenant.
 * Every lookup of a tenant by name goes through here.
 */
import { RelaygateError } from '../core/errors.js';
import { tenantNameKey } from './model.js';

export function sameTenantName(a: string, b: string): boolean {
  return tenantNameKey(a) === tenantNameKey(b);
}

export { tenantNameKey };

/** The tenant of `dir` named `name` in any case, or undefined. */
export function findTenant<T extends { name: string }>(dir: { readonly tenants: readonly T[] }, name: string): T | undefined {
  return dir.tenants.find((t) => sameTenantName(t.name, name));
}

/** The tenant of `dir` named `name` in any case; throws a `not-found` RelaygateError when there is none. */
export function requireTenant<T extends { name: string }>(dir: { readonly tenants: readonly T[] }, name: string): T {
  const t = findTenant(dir, name);
  if (t === undefined) throw new RelaygateError('not-found', `tenant ${name} does not exist`, { details: { field: 'tenant', tenant: name } });
  return t;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/**
 * The tenant a history filter names: one of `dir` by its name (any case), or a removed tenant by
 * its id (history keeps the id of a tenant that is gone); `not-found` otherwise.
 */
export function historyTenant<T extends { name: string; id: string }>(dir: { readonly tenants: readonly T[] }, given: string): { id: string; name: string | null } {
  const known = findTenant(dir, given);
  if (known) return { id: known.id, name: known.name };
  if (ULID.test(given)) return { id: given.toUpperCase(), name: null };
  throw new RelaygateError('not-found', `tenant ${given} does not exist`, { details: { field: 'tenant', tenant: given } });
}
