import type { Migration } from './index.js';

/**
 * Whether a tenant's relayed mail (to outside recipients) keeps our X-Relaygate-* fields. A tenant
 * without a row has them removed; a row exists only for a tenant that chose. It is a tenant
 * setting like the others: ON DELETE CASCADE from tenants, and the settings revision moves with
 * every change, so delivery sees it from its next pass.
 */
export const relayedHeadersMigration: Migration = {
  version: 9,
  name: 'relayed-headers',
  sql: `
CREATE TABLE relayed_header_settings (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  keep INTEGER NOT NULL CHECK (keep IN (0, 1))
);
${['INSERT', 'UPDATE', 'DELETE']
  .map(
    (op) => `CREATE TRIGGER relayed_header_settings_${op.toLowerCase()}_revision AFTER ${op} ON relayed_header_settings
  BEGIN UPDATE tenant_settings_state SET revision = revision + 1 WHERE id = 1; END;`,
  )
  .join('\n')}
`,
};
