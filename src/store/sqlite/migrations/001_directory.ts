import type { Migration } from './index.js';

/**
 * The tenant directory. Tenants keep their row id across `apply` (upsert by name); domains and
 * connectors are rewritten with their tenant. IP ranges and sender domains are JSON arrays of
 * canonical text: they are read whole into the policy snapshot, never queried one by one.
 */
export const directoryMigration: Migration = {
  version: 1,
  name: 'directory',
  sql: `
CREATE TABLE directory_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL,
  updated_at TEXT
);
INSERT INTO directory_state (id, revision, updated_at) VALUES (1, 0, NULL);
CREATE TABLE tenants (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL COLLATE NOCASE UNIQUE,
  position INTEGER NOT NULL,
  relay_rule_set TEXT NOT NULL CHECK (relay_rule_set IN ('auto', '2023-11', 'legacy')),
  reject_direct_send INTEGER NOT NULL
);
CREATE TABLE accepted_domains (
  domain TEXT PRIMARY KEY,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Authoritative', 'InternalRelay')),
  match_subdomains INTEGER NOT NULL
);
CREATE INDEX accepted_domains_tenant ON accepted_domains (tenant_id, position);
CREATE TABLE inbound_connectors (
  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE,
  position INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('OnPremises', 'Partner')),
  enabled INTEGER NOT NULL,
  sender_ip_addresses TEXT NOT NULL,
  tls_sender_certificate_name TEXT,
  require_tls INTEGER NOT NULL,
  restrict_domains_to_ip_addresses INTEGER NOT NULL,
  restrict_domains_to_certificate INTEGER NOT NULL,
  sender_domains TEXT NOT NULL,
  treat_messages_as_internal INTEGER NOT NULL,
  cloud_services_mail_enabled INTEGER NOT NULL,
  allow_bare_line_endings TEXT NOT NULL,
  comment TEXT NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
`,
};
