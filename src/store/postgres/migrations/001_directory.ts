import type { PostgresMigration } from './index.js';

/**
 * The tenant directory. Tenants are keyed by their id (a ULID, made by relaygate); names are
 * unique without regard to case, like connector names within a tenant. IP ranges and sender
 * domains are arrays of canonical text: they are read whole into the policy snapshot, never
 * queried one by one. The single directory_state row carries the revision and is the lock every
 * writer takes first, so directory writes from any node are serialised.
 */
export const directoryMigration: PostgresMigration = {
  version: 1,
  name: 'directory',
  sql: `
CREATE TABLE directory_state (
  id integer PRIMARY KEY CHECK (id = 1),
  revision bigint NOT NULL,
  updated_at timestamptz
);
INSERT INTO directory_state (id, revision, updated_at) VALUES (1, 0, NULL);
CREATE TABLE tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  position integer NOT NULL,
  relay_rule_set text NOT NULL CHECK (relay_rule_set IN ('auto', '2023-11', 'legacy')),
  reject_direct_send boolean NOT NULL
);
CREATE UNIQUE INDEX tenants_name ON tenants (lower(name));
CREATE TABLE accepted_domains (
  domain text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  position integer NOT NULL,
  type text NOT NULL CHECK (type IN ('Authoritative', 'InternalRelay')),
  match_subdomains boolean NOT NULL
);
CREATE INDEX accepted_domains_tenant ON accepted_domains (tenant_id, position);
CREATE TABLE inbound_connectors (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL,
  position integer NOT NULL,
  type text NOT NULL CHECK (type IN ('OnPremises', 'Partner')),
  enabled boolean NOT NULL,
  sender_ip_addresses text[] NOT NULL,
  tls_sender_certificate_name text,
  require_tls boolean NOT NULL,
  restrict_domains_to_ip_addresses boolean NOT NULL,
  restrict_domains_to_certificate boolean NOT NULL,
  sender_domains text[] NOT NULL,
  treat_messages_as_internal boolean NOT NULL,
  cloud_services_mail_enabled boolean NOT NULL,
  allow_bare_line_endings text NOT NULL CHECK (allow_bare_line_endings IN ('reject', 'normalize')),
  comment text NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
CREATE UNIQUE INDEX inbound_connectors_name ON inbound_connectors (tenant_id, lower(name));
`,
};
