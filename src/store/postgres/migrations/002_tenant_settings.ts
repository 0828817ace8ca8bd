import type { PostgresMigration } from './index.js';

/**
 * Per-tenant settings (DKIM keys, outbound routes, SRS settings, daily recipient limits), the daily
 * recipient counts, and the installation's secrets. Every per-tenant row refers to the tenant's id
 * with ON DELETE CASCADE. Row triggers bump tenant_settings_state.revision on every change of the
 * settings tables (cascades included), in the changing transaction, so every node sees the
 * revision move and rebuilds its snapshot. Instants are epoch milliseconds (bigint).
 */
export const tenantSettingsMigration: PostgresMigration = {
  version: 2,
  name: 'tenant-settings',
  sql: `
CREATE TABLE tenant_settings_state (
  id integer PRIMARY KEY CHECK (id = 1),
  revision bigint NOT NULL
);
INSERT INTO tenant_settings_state (id, revision) VALUES (1, 0);
CREATE TABLE dkim_keys (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  domain text NOT NULL,
  selector text NOT NULL,
  algorithm text NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
  private_key text NOT NULL,
  public_key text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, domain, selector)
);
CREATE TABLE outbound_routes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  domains text[] NOT NULL,
  host text NOT NULL,
  port integer NOT NULL,
  tls text NOT NULL CHECK (tls IN ('none', 'opportunistic', 'required', 'verify')),
  auth_user text,
  auth_pass text,
  client_cert text,
  client_key text
);
CREATE INDEX outbound_routes_tenant ON outbound_routes (tenant_id);
CREATE TABLE srs_settings (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  enabled boolean NOT NULL,
  rewrite_domain text
);
CREATE TABLE tenant_limits (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  daily_recipients integer CHECK (daily_recipients IS NULL OR daily_recipients >= 0)
);
CREATE TABLE tenant_recipient_counts (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  day text NOT NULL,
  recipients integer NOT NULL CHECK (recipients >= 0),
  PRIMARY KEY (tenant_id, day)
);
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at bigint NOT NULL
);
CREATE FUNCTION bump_tenant_settings_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tenant_settings_state SET revision = revision + 1 WHERE id = 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER dkim_keys_revision AFTER INSERT OR UPDATE OR DELETE ON dkim_keys
  FOR EACH ROW EXECUTE FUNCTION bump_tenant_settings_revision();
CREATE TRIGGER outbound_routes_revision AFTER INSERT OR UPDATE OR DELETE ON outbound_routes
  FOR EACH ROW EXECUTE FUNCTION bump_tenant_settings_revision();
CREATE TRIGGER srs_settings_revision AFTER INSERT OR UPDATE OR DELETE ON srs_settings
  FOR EACH ROW EXECUTE FUNCTION bump_tenant_settings_revision();
CREATE TRIGGER tenant_limits_revision AFTER INSERT OR UPDATE OR DELETE ON tenant_limits
  FOR EACH ROW EXECUTE FUNCTION bump_tenant_settings_revision();
`,
};
