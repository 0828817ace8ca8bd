/**
 * Reading and writing the directory tables (migration 001) as whole directory values, inside a
 * transaction the caller holds. Writes go in a few set-based statements (unnest of arrays), so an
 * `apply` of thousands of tenants costs a handful of round trips, not one per row.
 */
import type {
  AcceptedDomainType,
  BareLineEndingPolicy,
  ConnectorType,
  RelayRuleSetSetting,
  StoredDirectory,
  StoredTenant,
  TenantId,
} from '../../directory/model.js';
import type { PgQueryable } from './database.js';

interface TenantRow {
  id: TenantId;
  name: string;
  relay_rule_set: RelayRuleSetSetting;
  reject_direct_send: boolean;
}

interface DomainRow {
  tenant_id: TenantId;
  domain: string;
  type: AcceptedDomainType;
  match_subdomains: boolean;
}

interface ConnectorRow {
  tenant_id: TenantId;
  name: string;
  type: ConnectorType;
  enabled: boolean;
  sender_ip_addresses: string[];
  tls_sender_certificate_name: string | null;
  require_tls: boolean;
  restrict_domains_to_ip_addresses: boolean;
  restrict_domains_to_certificate: boolean;
  sender_domains: string[];
  treat_messages_as_internal: boolean;
  cloud_services_mail_enabled: boolean;
  allow_bare_line_endings: BareLineEndingPolicy;
  comment: string;
}

export async function readRevision(db: PgQueryable): Promise<number> {
  const { rows } = await db.query<{ revision: number }>('SELECT revision FROM directory_state WHERE id = 1');
  return rows[0]!.revision;
}

/** Takes the directory's write lock (the state row) for the rest of the transaction. */
export async function lockDirectory(tx: PgQueryable): Promise<void> {
  await tx.query('SELECT revision FROM directory_state WHERE id = 1 FOR UPDATE');
}

export async function bumpRevision(tx: PgQueryable): Promise<void> {
  await tx.query('UPDATE directory_state SET revision = revision + 1, updated_at = now() WHERE id = 1');
}

export async function readDirectory(tx: PgQueryable): Promise<StoredDirectory> {
  const tenantRows = await tx.query<TenantRow>('SELECT id, name, relay_rule_set, reject_direct_send FROM tenants ORDER BY position, id');
  const domainRows = await tx.query<DomainRow>('SELECT tenant_id, domain, type, match_subdomains FROM accepted_domains ORDER BY position, domain');
  const connectorRows = await tx.query<ConnectorRow>('SELECT * FROM inbound_connectors ORDER BY position, name');
  const byId = new Map<TenantId, StoredTenant>();
  const tenants: StoredTenant[] = [];
  for (const r of tenantRows.rows) {
    const t: StoredTenant = {
      name: r.name,
      id: r.id,
      relayRuleSet: r.relay_rule_set,
      rejectDirectSend: r.reject_direct_send,
      acceptedDomains: [],
      inboundConnectors: [],
    };
    byId.set(r.id, t);
    tenants.push(t);
  }
  for (const r of domainRows.rows) {
    byId.get(r.tenant_id)?.acceptedDomains.push({ domain: r.domain, type: r.type, matchSubDomains: r.match_subdomains });
  }
  for (const r of connectorRows.rows) {
    byId.get(r.tenant_id)?.inboundConnectors.push({
      name: r.name,
      type: r.type,
      enabled: r.enabled,
      senderIPAddresses: r.sender_ip_addresses,
      tlsSenderCertificateName: r.tls_sender_certificate_name,
      requireTls: r.require_tls,
      restrictDomainsToIPAddresses: r.restrict_domains_to_ip_addresses,
      restrictDomainsToCertificate: r.restrict_domains_to_certificate,
      senderDomains: r.sender_domains,
      treatMessagesAsInternal: r.treat_messages_as_internal,
      cloudServicesMailEnabled: r.cloud_services_mail_enabled,
      allowBareLineEndings: r.allow_bare_line_endings,
      comment: r.comment,
    });
  }
  return { tenants };
}

/**
 * Makes the tables hold `next` (validated, every tenant with its id), given that they hold
 * `current`. Tenants are matched by id; only those whose content or position differ are touched.
 * Removing a tenant removes its rows in every table that refers to it (ON DELETE CASCADE).
 */
export async function writeDirectory(tx: PgQueryable, current: StoredDirectory, next: StoredDirectory): Promise<void> {
  const before = new Map(current.tenants.map((t, i) => [t.id, { tenant: t, position: i }]));
  const keep = new Set(next.tenants.map((t) => t.id));
  const removed = [...before.keys()].filter((id) => !keep.has(id));
  if (removed.length > 0) await tx.query('DELETE FROM tenants WHERE id = ANY($1::text[])', [removed]);
  const dirty = next.tenants.map((t, position) => {
    const b = before.get(t.id);
    return {
      t,
      position,
      changed: b === undefined || JSON.stringify(b.tenant) !== JSON.stringify(t),
      moved: b !== undefined && b.position !== position,
      renamed: b !== undefined && b.tenant.name !== t.name,
    };
  });
  // Renamed tenants give up their names first, so two tenants can swap names. chr(1): a name no
  // tenant can have (names exclude control characters), unique per tenant.
  const renamed = dirty.filter((d) => d.renamed).map((d) => d.t.id);
  if (renamed.length > 0) await tx.query("UPDATE tenants SET name = chr(1) || id WHERE id = ANY($1::text[])", [renamed]);
  // Clear changed tenants' items first, so a domain moving between tenants never collides.
  const changed = dirty.filter((d) => d.changed);
  const changedIds = changed.map((d) => d.t.id);
  if (changedIds.length > 0) {
    await tx.query('DELETE FROM accepted_domains WHERE tenant_id = ANY($1::text[])', [changedIds]);
    await tx.query('DELETE FROM inbound_connectors WHERE tenant_id = ANY($1::text[])', [changedIds]);
  }
  const upserts = dirty.filter((d) => d.changed || d.moved);
  if (upserts.length > 0) {
    await tx.query(
      `INSERT INTO tenants (id, name, position, relay_rule_set, reject_direct_send)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::boolean[])
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, position = excluded.position,
         relay_rule_set = excluded.relay_rule_set, reject_direct_send = excluded.reject_direct_send`,
      [
        upserts.map((d) => d.t.id),
        upserts.map((d) => d.t.name),
        upserts.map((d) => d.position),
        upserts.map((d) => d.t.relayRuleSet),
        upserts.map((d) => d.t.rejectDirectSend),
      ],
    );
  }
  const domains = changed.flatMap(({ t }) => t.acceptedDomains.map((d, i) => ({ id: t.id, d, i })));
  if (domains.length > 0) {
    await tx.query(
      `INSERT INTO accepted_domains (domain, tenant_id, position, type, match_subdomains)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::boolean[])`,
      [domains.map((x) => x.d.domain), domains.map((x) => x.id), domains.map((x) => x.i), domains.map((x) => x.d.type), domains.map((x) => x.d.matchSubDomains)],
    );
  }
  const connectors = changed.flatMap(({ t }) => t.inboundConnectors.map((c, i) => ({ id: t.id, c, i })));
  // Arrays of arrays do not survive unnest (it flattens them), so the list columns travel as JSON.
  if (connectors.length > 0) {
    await tx.query(
      `INSERT INTO inbound_connectors (tenant_id, name, position, type, enabled, sender_ip_addresses,
         tls_sender_certificate_name, require_tls, restrict_domains_to_ip_addresses, restrict_domains_to_certificate,
         sender_domains, treat_messages_as_internal, cloud_services_mail_enabled, allow_bare_line_endings, comment)
       SELECT c.tenant_id, c.name, c.position, c.type, c.enabled,
         ARRAY(SELECT jsonb_array_elements_text(c.sender_ip_addresses)),
         c.tls_sender_certificate_name, c.require_tls, c.restrict_ip, c.restrict_cert,
         ARRAY(SELECT jsonb_array_elements_text(c.sender_domains)),
         c.internal, c.cloud, c.bare, c.comment
       FROM jsonb_to_recordset($1::jsonb) AS c(tenant_id text, name text, position int, type text, enabled boolean,
         sender_ip_addresses jsonb, tls_sender_certificate_name text, require_tls boolean, restrict_ip boolean,
         restrict_cert boolean, sender_domains jsonb, internal boolean, cloud boolean, bare text, comment text)`,
      [
        JSON.stringify(
          connectors.map(({ id, c, i }) => ({
            tenant_id: id,
            name: c.name,
            position: i,
            type: c.type,
            enabled: c.enabled,
            sender_ip_addresses: c.senderIPAddresses,
            tls_sender_certificate_name: c.tlsSenderCertificateName,
            require_tls: c.requireTls,
            restrict_ip: c.restrictDomainsToIPAddresses,
            restrict_cert: c.restrictDomainsToCertificate,
            sender_domains: c.senderDomains,
            internal: c.treatMessagesAsInternal,
            cloud: c.cloudServicesMailEnabled,
            bare: c.allowBareLineEndings,
            comment: c.comment,
          })),
        ),
      ],
    );
  }
}
