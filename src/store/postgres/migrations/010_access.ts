import type { PostgresMigration } from './index.js';

/**
 * The admin API's tokens and audit log. A tenant token goes with its tenant (ON DELETE CASCADE);
 * an audit record is a record of the past and keeps the tenant id of its time, without a reference.
 */
export const accessMigration: PostgresMigration = {
  version: 10,
  name: 'access',
  sql: `
CREATE TABLE admin_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'tenant')),
  tenant_id text REFERENCES tenants(id) ON DELETE CASCADE,
  scope text NOT NULL CHECK (scope IN ('read', 'write')),
  secret_hash text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint,
  revoked_at bigint,
  created_by text,
  CHECK ((role = 'admin') = (tenant_id IS NULL))
);
CREATE INDEX admin_tokens_tenant ON admin_tokens (tenant_id);
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,
  actor_name text NOT NULL,
  tenant_id text,
  action text NOT NULL,
  target text NOT NULL,
  client_ip text NOT NULL,
  before text,
  after text
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
`,
};
