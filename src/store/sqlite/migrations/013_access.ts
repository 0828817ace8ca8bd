import type { Migration } from './index.js';

/**
 * The admin API's tokens and audit log. A tenant token goes with its tenant (ON DELETE CASCADE);
 * an audit record is a record of the past and keeps the tenant id of its time, without a reference.
 * Tokens are found by id (the token's public part); the secret is kept only as its SHA-256.
 */
export const accessMigration: Migration = {
  version: 13,
  name: 'access',
  sql: `
CREATE TABLE admin_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'tenant')),
  tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  created_by TEXT,
  CHECK ((role = 'admin') = (tenant_id IS NULL))
);
CREATE INDEX admin_tokens_tenant ON admin_tokens (tenant_id);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  tenant_id TEXT,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  client_ip TEXT NOT NULL,
  before TEXT,
  after TEXT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
`,
};
