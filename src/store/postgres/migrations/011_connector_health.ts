import type { PostgresMigration } from './index.js';

/**
 * Connector health: per connector (its tenant's id and its lower-cased name) the traffic per UTC
 * day, the client certificates it saw and the source addresses. Gone with the tenant. Instants are
 * epoch milliseconds.
 */
export const connectorHealthMigration: PostgresMigration = {
  version: 11,
  name: 'connector-health',
  sql: `
CREATE TABLE connector_traffic (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  connector text NOT NULL,
  day text NOT NULL,
  accepted bigint NOT NULL DEFAULT 0,
  refused bigint NOT NULL DEFAULT 0,
  last_seen bigint NOT NULL,
  PRIMARY KEY (tenant_id, connector, day)
);
CREATE INDEX connector_traffic_day ON connector_traffic (day);
CREATE TABLE connector_certificates (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  connector text NOT NULL,
  fingerprint text NOT NULL,
  subject text NOT NULL,
  names text[] NOT NULL,
  issuer text NOT NULL,
  not_before bigint,
  not_after bigint,
  trusted boolean NOT NULL,
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  seen bigint NOT NULL DEFAULT 0,
  null_senders bigint NOT NULL DEFAULT 0,
  foreign_senders bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, connector, fingerprint)
);
CREATE INDEX connector_certificates_last_seen ON connector_certificates (last_seen);
CREATE TABLE connector_sources (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  connector text NOT NULL,
  ip text NOT NULL,
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  seen bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, connector, ip)
);
CREATE INDEX connector_sources_last_seen ON connector_sources (last_seen);
`,
};
