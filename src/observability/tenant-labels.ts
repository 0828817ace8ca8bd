/**
 * The `tenant` label, bounded: the first `limit` tenants this process sees keep their name, every
 * later one is `other`; mail with no tenant is `none`. A directory with at most `limit` tenants
 * therefore has one series per tenant; a larger one never more than `limit + 2` values.
 */
export const OTHER_TENANTS = 'other';
export const NO_TENANT = 'none';

export class TenantLabels {
  private readonly named = new Set<string>();

  constructor(private readonly limit: number) {}

  label(tenant: string | null): string {
    if (tenant === null) return NO_TENANT;
    if (this.named.has(tenant)) return tenant;
    if (this.named.size >= this.limit) return OTHER_TENANTS;
    this.named.add(tenant);
    return tenant;
  }
}
