import type { Migration } from './index.js';

/**
 * Connector health: per connector (its tenant's id and its lower-cased name) the traffic per UTC
 * day, the client certificates it saw and the source addresses. Gone with the tenant. Names are a
 * JSON list; instants epoch milliseconds.
 */
export const connectorHealthMigration: Migration = {
  version: 14,
  name: 'connector-health',
  sql: `
CREATE TABLE connector_traffic (
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  connector TEXT NOT NULL,
  day TEXT NOT NULL,
  accepted INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, connector, day)
);
CREATE INDEX connector_traffic_day ON connector_traffic (day);
CREATE TABLE connector_certificates (
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  connector TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  subject TEXT NOT NULL,
  names TEXT NOT NULL,
  issuer TEXT NOT NULL,
  not_before INTEGER,
  not_after INTEGER,
  trusted INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  seen INTEGER NOT NULL DEFAULT 0,
  null_senders INTEGER NOT NULL DEFAULT 0,
  foreign_senders INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, connector, fingerprint)
);
CREATE INDEX connector_certificates_last_seen ON connector_certificates (last_seen);
CREATE TABLE connector_sources (
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  connector TEXT NOT NULL,
  ip TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  seen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, connector, ip)
);
CREATE INDEX connector_sources_last_seen ON connector_sources (last_seen);
`,
};
