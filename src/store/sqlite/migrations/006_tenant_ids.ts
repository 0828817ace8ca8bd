import { systemTenantIds } from '../tenant-ids.js';
import type { SqliteDatabase } from '../database.js';
import type { Migration } from './index.js';

/**
 * Stable tenant ids. Tenants get a ULID as their key instead of a row number; the per-tenant
 * tables (DKIM keys, outbound routes, SRS settings, quota limits and counts) refer to it with
 * ON DELETE CASCADE instead of naming the tenant, so a rename keeps them and a removal takes
 * them along. Existing rows are carried across by tenant name in any case; when two rows differ
 * only in the case of the name, the one spelled like the tenant wins (it was the one in use), and
 * the day counts of both are added up. Rows of tenants no longer in the directory have no tenant
 * to refer to and are dropped. Tenant settings get a revision, bumped by triggers on every change
 * (cascades included), so readers rebuild their snapshot only when it moved.
 */
export const tenantIdsMigration: Migration = {
  version: 6,
  name: 'tenant-ids',
  rebuildsTables: true,
  up(db: SqliteDatabase) {
    db.exec(`
CREATE TABLE tenants_v6 (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL COLLATE NOCASE UNIQUE,
  position INTEGER NOT NULL,
  relay_rule_set TEXT NOT NULL CHECK (relay_rule_set IN ('auto', '2023-11', 'legacy')),
  reject_direct_send INTEGER NOT NULL
);
CREATE TEMP TABLE tenant_id_map (old_id INTEGER PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE);
`);
    const newId = systemTenantIds();
    const insertMap = db.prepare('INSERT INTO tenant_id_map (old_id, id, name) VALUES (?, ?, ?)');
    for (const row of db.prepare('SELECT id, name FROM tenants ORDER BY position, id').all() as Array<{ id: number; name: string }>) {
      insertMap.run(row.id, newId(), row.name);
    }
    db.exec(`
INSERT INTO tenants_v6 (id, name, position, relay_rule_set, reject_direct_send)
  SELECT m.id, t.name, t.position, t.relay_rule_set, t.reject_direct_send FROM tenants t JOIN tenant_id_map m ON m.old_id = t.id;

CREATE TABLE accepted_domains_v6 (
  domain TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Authoritative', 'InternalRelay')),
  match_subdomains INTEGER NOT NULL
);
INSERT INTO accepted_domains_v6 (domain, tenant_id, position, type, match_subdomains)
  SELECT d.domain, m.id, d.position, d.type, d.match_subdomains FROM accepted_domains d JOIN tenant_id_map m ON m.old_id = d.tenant_id;

CREATE TABLE inbound_connectors_v6 (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
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
INSERT INTO inbound_connectors_v6
  SELECT m.id, c.name, c.position, c.type, c.enabled, c.sender_ip_addresses, c.tls_sender_certificate_name, c.require_tls,
    c.restrict_domains_to_ip_addresses, c.restrict_domains_to_certificate, c.sender_domains, c.treat_messages_as_internal,
    c.cloud_services_mail_enabled, c.allow_bare_line_endings, c.comment
  FROM inbound_connectors c JOIN tenant_id_map m ON m.old_id = c.tenant_id;

CREATE TABLE dkim_keys_v6 (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
  private_key TEXT NOT NULL,
  public_key TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, domain, selector)
);
INSERT OR IGNORE INTO dkim_keys_v6 (tenant_id, domain, selector, algorithm, private_key, public_key, active, created_at)
  SELECT m.id, k.domain, k.selector, k.algorithm, k.private_key, k.public_key, k.active, k.created_at
  FROM dkim_keys k JOIN tenant_id_map m ON m.name = k.tenant COLLATE NOCASE
  ORDER BY (k.tenant = m.name COLLATE BINARY) DESC;

CREATE TABLE srs_settings_v6 (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL DEFAULT 1,
  rewrite_domain TEXT
);
INSERT OR IGNORE INTO srs_settings_v6 (tenant_id, enabled, rewrite_domain)
  SELECT m.id, s.enabled, s.rewrite_domain FROM srs_settings s JOIN tenant_id_map m ON m.name = s.tenant COLLATE NOCASE
  ORDER BY (s.tenant = m.name COLLATE BINARY) DESC;

CREATE TABLE outbound_routes_v6 (
  id INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  domains TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 25,
  tls TEXT NOT NULL DEFAULT 'opportunistic' CHECK (tls IN ('none', 'opportunistic', 'required', 'verify')),
  auth_user TEXT, auth_pass TEXT,
  client_cert TEXT, client_key TEXT
);
INSERT INTO outbound_routes_v6 (id, tenant_id, domains, host, port, tls, auth_user, auth_pass, client_cert, client_key)
  SELECT r.id, m.id, r.domains, r.host, r.port, r.tls, r.auth_user, r.auth_pass, r.client_cert, r.client_key
  FROM outbound_routes r JOIN tenant_id_map m ON m.name = r.tenant COLLATE NOCASE;

CREATE TABLE tenant_limits_v6 (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  daily_recipients INTEGER CHECK (daily_recipients IS NULL OR daily_recipients >= 0)
);
INSERT OR IGNORE INTO tenant_limits_v6 (tenant_id, daily_recipients)
  SELECT m.id, l.daily_recipients FROM tenant_limits l JOIN tenant_id_map m ON m.name = l.tenant COLLATE NOCASE
  ORDER BY (l.tenant = m.name COLLATE BINARY) DESC;

CREATE TABLE tenant_recipient_counts_v6 (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  recipients INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day)
);
INSERT INTO tenant_recipient_counts_v6 (tenant_id, day, recipients)
  SELECT m.id, c.day, SUM(c.recipients) FROM tenant_recipient_counts c JOIN tenant_id_map m ON m.name = c.tenant COLLATE NOCASE
  GROUP BY m.id, c.day;

DROP TABLE accepted_domains;
DROP TABLE inbound_connectors;
DROP TABLE dkim_keys;
DROP TABLE srs_settings;
DROP TABLE outbound_routes;
DROP TABLE tenant_limits;
DROP TABLE tenant_recipient_counts;
DROP TABLE tenants;
DROP TABLE tenant_id_map;
ALTER TABLE tenants_v6 RENAME TO tenants;
ALTER TABLE accepted_domains_v6 RENAME TO accepted_domains;
ALTER TABLE inbound_connectors_v6 RENAME TO inbound_connectors;
ALTER TABLE dkim_keys_v6 RENAME TO dkim_keys;
ALTER TABLE srs_settings_v6 RENAME TO srs_settings;
ALTER TABLE outbound_routes_v6 RENAME TO outbound_routes;
ALTER TABLE tenant_limits_v6 RENAME TO tenant_limits;
ALTER TABLE tenant_recipient_counts_v6 RENAME TO tenant_recipient_counts;
CREATE INDEX accepted_domains_tenant ON accepted_domains (tenant_id, position);
CREATE INDEX outbound_routes_tenant ON outbound_routes (tenant_id);
CREATE INDEX dkim_keys_tenant ON dkim_keys (tenant_id);

CREATE TABLE tenant_settings_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL
);
INSERT INTO tenant_settings_state (id, revision) VALUES (1, 0);
${['dkim_keys', 'srs_settings', 'outbound_routes', 'tenant_limits']
  .flatMap((table) =>
    ['INSERT', 'UPDATE', 'DELETE'].map(
      (op) => `CREATE TRIGGER ${table}_${op.toLowerCase()}_revision AFTER ${op} ON ${table}
  BEGIN UPDATE tenant_settings_state SET revision = revision + 1 WHERE id = 1; END;`,
    ),
  )
  .join('\n')}
`);
  },
};
