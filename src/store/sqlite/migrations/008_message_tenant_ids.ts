import type { Migration } from './index.js';

/**
 * Queued messages and decisions name their tenant by id; the name stays beside it for people, as it
 * was at acceptance (or at the decision). A message queued before a rename is then delivered with
 * the tenant's DKIM key, routes and SRS setting.
 *
 * `messages.tenant_id` refers to the tenant with ON DELETE SET NULL: removing a tenant never takes
 * accepted mail with it (the client was told 250, so it is delivered or bounced), it is delivered
 * without the tenant's settings, as the removal took them, and the null says so to anyone reading
 * the queue. `decisions.tenant_id` refers to nothing: a decision is a record of the past, read by the
 * tenant's id under every name it had, and a removal does not rewrite it (nor make the trace's
 * inserts depend on the tenant still being there).
 *
 * Existing rows are carried across by name in any case; a name no tenant has any more gets a null
 * id and keeps its name.
 */
export const messageTenantIdsMigration: Migration = {
  version: 8,
  name: 'message-tenant-ids',
  sql: `
ALTER TABLE messages ADD COLUMN tenant_id TEXT REFERENCES tenants(id) ON DELETE SET NULL;
UPDATE messages SET tenant_id = (SELECT t.id FROM tenants t WHERE t.name = messages.tenant COLLATE NOCASE) WHERE tenant IS NOT NULL;
CREATE INDEX messages_tenant_id ON messages(tenant_id);

ALTER TABLE decisions ADD COLUMN tenant_id TEXT;
UPDATE decisions SET tenant_id = (SELECT t.id FROM tenants t WHERE t.name = decisions.tenant COLLATE NOCASE) WHERE tenant IS NOT NULL;
DROP INDEX decisions_tenant;
CREATE INDEX decisions_tenant ON decisions(tenant_id, at);
`,
};
