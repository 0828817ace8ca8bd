/**
 * Giving the tenants of a directory their ids before a store writes it. A tenant keeps the id the
 * input gives it; a tenant without one keeps the id of the stored tenant of the same name (so an
 * old tenants.yaml without ids changes nothing), and a new tenant gets a new id. Pure: the id
 * generator is a parameter.
 */
import type { IdGenerator } from '../core/ulid.js';
import { tenantNameKey } from './find-tenant.js';
import type { Directory, StoredDirectory, StoredTenant, Tenant, TenantId } from './model.js';
import { DirectoryValidationError, issueAt, type DirectoryIssue } from './validate.js';

function withId(t: Tenant, id: TenantId): StoredTenant {
  const { name, id: _old, ...rest } = t;
  return { name, id, ...rest };
}

/**
 * `next` with every tenant's id. Throws DirectoryValidationError when a tenant brings an id the
 * store does not know under the name of a stored tenant: that would drop the stored tenant and
 * its settings (DKIM keys, routes, SRS, quota) and start a new one under the same name.
 */
export function assignTenantIds(current: StoredDirectory, next: Directory, newId: IdGenerator): StoredDirectory {
  const storedIds = new Set(current.tenants.map((t) => t.id));
  const storedByName = new Map(current.tenants.map((t) => [tenantNameKey(t.name), t]));
  const claimed = new Set(next.tenants.flatMap((t) => (t.id !== undefined && storedIds.has(t.id) ? [t.id] : [])));
  const issues: DirectoryIssue[] = [];
  next.tenants.forEach((t, i) => {
    const namesake = storedByName.get(tenantNameKey(t.name));
    if (t.id === undefined || storedIds.has(t.id) || namesake === undefined || claimed.has(namesake.id)) return;
    issues.push(
      issueAt(next, ['tenants', i, 'id'], `the stored tenant ${namesake.name} has id ${namesake.id}: give that id or none (remove the tenant first to replace it)`),
    );
  });
  if (issues.length > 0) throw new DirectoryValidationError(issues);
  const tenants = next.tenants.map((t) => {
    if (t.id !== undefined) return withId(t, t.id);
    const namesake = storedByName.get(tenantNameKey(t.name));
    if (namesake !== undefined && !claimed.has(namesake.id)) {
      claimed.add(namesake.id);
      return withId(t, namesake.id);
    }
    return withId(t, newId());
  });
  return { tenants };
}
