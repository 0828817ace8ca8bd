import type { Migration } from './index.js';

/**
 * Delivery's own tables: DKIM keys per tenant domain, per-tenant SRS settings and outbound routes,
 * server secrets (the SRS HMAC key, made once), the host that gave a recipient's last reply (for
 * the DSN's Remote-MTA), and indexes for the scheduler's queries on the
 * queue tables of migration 002 (which stays untouched).
 */
export const deliveryMigration: Migration = {
  version: 3,
  name: 'delivery',
  sql: `
CREATE TABLE dkim_keys (
  tenant TEXT NOT NULL,
  domain TEXT NOT NULL,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
  private_key TEXT NOT NULL,
  public_key TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, domain, selector)
);
CREATE TABLE srs_settings (
  tenant TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL DEFAULT 1,
  rewrite_domain TEXT
);
CREATE TABLE outbound_routes (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  domains TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 25,
  tls TEXT NOT NULL DEFAULT 'opportunistic' CHECK (tls IN ('none', 'opportunistic', 'required', 'verify')),
  auth_user TEXT, auth_pass TEXT,
  client_cert TEXT, client_key TEXT
);
CREATE INDEX outbound_routes_tenant ON outbound_routes(tenant);
CREATE TABLE delivery_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
ALTER TABLE recipients ADD COLUMN last_remote_mta TEXT;
CREATE INDEX recipients_lease ON recipients(state, lease_until);
CREATE INDEX recipients_dsn_owed ON recipients(dsn_status) WHERE dsn_status = 'owed';
CREATE INDEX recipients_domain ON recipients(domain);
CREATE INDEX messages_tenant ON messages(tenant);
`,
};
