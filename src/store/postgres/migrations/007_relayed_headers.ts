import type { PostgresMigration } from './index.js';

/**
 * Whether a tenant's relayed mail (to outside recipients) keeps our X-Relaygate-* fields: a row
 * only for a tenant that chose (none: they are removed). A tenant setting like the others, ON
 * DELETE CASCADE from tenants, and its changes move the settings revision.
 */
export const relayedHeadersMigration: PostgresMigration = {
  version: 7,
  name: 'relayed-headers',
  sql: `
CREATE TABLE relayed_header_settings (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  keep boolean NOT NULL
);
CREATE TRIGGER relayed_header_settings_revision AFTER INSERT OR UPDATE OR DELETE ON relayed_header_settings
  FOR EACH ROW EXECUTE FUNCTION bump_tenant_settings_revision();
`,
};
