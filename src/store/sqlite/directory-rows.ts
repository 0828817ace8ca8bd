/**
 * Reading and writing the directory tables (migration 001) as whole Directory values. Callers
 * validate before writing and run both inside a transaction.
 */
import type {
  AcceptedDomainType,
  ConnectorType,
  BareLineEndingPolicy,
  RelayRuleSetSetting,
  StoredDirectory,
  StoredTenant,
  TenantId,
} from '../../directory/model.js';
import type { SqliteDatabase } from './database.js';

interface TenantRow {
  id: TenantId;
  name: string;
  relay_rule_set: RelayRuleSetSetting;
  reject_direct_send: number;
}

interface DomainRow {
  tenant_id: TenantId;
  domain: string;
  type: AcceptedDomainType;
  match_subdomains: number;
}

interface ConnectorRow {
  tenant_id: TenantId;
  name: string;
  type: ConnectorType;
  enabled: number;
  sender_ip_addresses: string;
  tls_sender_certificate_name: string | null;
  require_tls: number;
  restrict_domains_to_ip_addresses: number;
  restrict_domains_to_certificate: number;
  sender_domains: string;
  treat_messages_as_internal: number;
  cloud_services_mail_enabled: number;
  allow_bare_line_endings: BareLineEndingPolicy;
  comment: string;
}

export class DirectoryRows {
  private readonly selectTenants;
  private readonly selectDomains;
  private readonly selectConnectors;
  private readonly selectRevision;
  private readonly bumpRevision;
  private readonly upsertTenant;
  private readonly parkName;
  private readonly deleteTenant;
  private readonly deleteDomains;
  private readonly deleteConnectors;
  private readonly insertDomain;
  private readonly insertConnector;

  constructor(private readonly db: SqliteDatabase) {
    this.selectTenants = db.prepare('SELECT id, name, relay_rule_set, reject_direct_send FROM tenants ORDER BY position, id');
    this.selectDomains = db.prepare('SELECT tenant_id, domain, type, match_subdomains FROM accepted_domains ORDER BY position');
    this.selectConnectors = db.prepare('SELECT * FROM inbound_connectors ORDER BY position');
    this.selectRevision = db.prepare('SELECT revision FROM directory_state WHERE id = 1');
    this.bumpRevision = db.prepare('UPDATE directory_state SET revision = revision + 1, updated_at = ? WHERE id = 1');
    this.upsertTenant = db.prepare(
      `INSERT INTO tenants (id, name, position, relay_rule_set, reject_direct_send) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, position = excluded.position,
         relay_rule_set = excluded.relay_rule_set, reject_direct_send = excluded.reject_direct_send`,
    );
    // A name no tenant can have (names exclude control characters), unique per tenant.
    this.parkName = db.prepare("UPDATE tenants SET name = char(0) || id WHERE id = ?");
    this.deleteTenant = db.prepare('DELETE FROM tenants WHERE id = ?');
    this.deleteDomains = db.prepare('DELETE FROM accepted_domains WHERE tenant_id = ?');
    this.deleteConnectors = db.prepare('DELETE FROM inbound_connectors WHERE tenant_id = ?');
    this.insertDomain = db.prepare(
      'INSERT INTO accepted_domains (domain, tenant_id, position, type, match_subdomains) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertConnector = db.prepare(
      `INSERT INTO inbound_connectors (tenant_id, name, position, type, enabled, sender_ip_addresses,
         tls_sender_certificate_name, require_tls, restrict_domains_to_ip_addresses, restrict_domains_to_certificate,
         sender_domains, treat_messages_as_internal, cloud_services_mail_enabled, allow_bare_line_endings, comment)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  revision(): number {
    return (this.selectRevision.get() as { revision: number }).revision;
  }

  bump(): void {
    this.bumpRevision.run(new Date().toISOString());
  }

  read(): StoredDirectory {
    const byId = new Map<TenantId, StoredTenant>();
    const tenants: StoredTenant[] = [];
    for (const r of this.selectTenants.all() as TenantRow[]) {
      const t: StoredTenant = {
        name: r.name,
        id: r.id,
        relayRuleSet: r.relay_rule_set,
        rejectDirectSend: r.reject_direct_send === 1,
        acceptedDomains: [],
        inboundConnectors: [],
      };
      byId.set(r.id, t);
      tenants.push(t);
    }
    for (const r of this.selectDomains.all() as DomainRow[]) {
      byId.get(r.tenant_id)?.acceptedDomains.push({ domain: r.domain, type: r.type, matchSubDomains: r.match_subdomains === 1 });
    }
    for (const r of this.selectConnectors.all() as ConnectorRow[]) {
      byId.get(r.tenant_id)?.inboundConnectors.push({
        name: r.name,
        type: r.type,
        enabled: r.enabled === 1,
        senderIPAddresses: JSON.parse(r.sender_ip_addresses) as string[],
        tlsSenderCertificateName: r.tls_sender_certificate_name,
        requireTls: r.require_tls === 1,
        restrictDomainsToIPAddresses: r.restrict_domains_to_ip_addresses === 1,
        restrictDomainsToCertificate: r.restrict_domains_to_certificate === 1,
        senderDomains: JSON.parse(r.sender_domains) as string[],
        treatMessagesAsInternal: r.treat_messages_as_internal === 1,
        cloudServicesMailEnabled: r.cloud_services_mail_enabled === 1,
        allowBareLineEndings: r.allow_bare_line_endings,
        comment: r.comment,
      });
    }
    return { tenants };
  }

  /**
   * Makes the tables hold `next` (already validated, every tenant with its id), given that they
   * hold `current`. Tenants are matched by id; only those whose content or position differ are
   * touched. Removing a tenant removes its rows in every table that refers to it (ON DELETE CASCADE).
   */
  write(current: StoredDirectory, next: StoredDirectory): void {
    const before = new Map(current.tenants.map((t, i) => [t.id, { tenant: t, position: i }]));
    const keep = new Set(next.tenants.map((t) => t.id));
    for (const [id] of before) if (!keep.has(id)) this.deleteTenant.run(id);
    const dirty = next.tenants.map((t, position) => {
      const b = before.get(t.id);
      const changed = b === undefined || JSON.stringify(b.tenant) !== JSON.stringify(t);
      return { t, position, changed, moved: b !== undefined && b.position !== position, renamed: b !== undefined && b.tenant.name !== t.name };
    });
    // Renamed tenants give up their names first, so two tenants can swap names.
    for (const d of dirty) if (d.renamed) this.parkName.run(d.t.id);
    // Clear changed tenants' items first, so a domain moving between tenants never collides.
    for (const d of dirty) if (d.changed) this.deleteItems(d.t.id);
    for (const { t, position, changed, moved } of dirty) {
      if (!changed && !moved) continue;
      this.upsertTenant.run(t.id, t.name, position, t.relayRuleSet, t.rejectDirectSend ? 1 : 0);
      if (!changed) continue;
      const id = t.id;
      t.acceptedDomains.forEach((d, i) => this.insertDomain.run(d.domain, id, i, d.type, d.matchSubDomains ? 1 : 0));
      t.inboundConnectors.forEach((c, i) =>
        this.insertConnector.run(
          id,
          c.name,
          i,
          c.type,
          c.enabled ? 1 : 0,
          JSON.stringify(c.senderIPAddresses),
          c.tlsSenderCertificateName,
          c.requireTls ? 1 : 0,
          c.restrictDomainsToIPAddresses ? 1 : 0,
          c.restrictDomainsToCertificate ? 1 : 0,
          JSON.stringify(c.senderDomains),
          c.treatMessagesAsInternal ? 1 : 0,
          c.cloudServicesMailEnabled ? 1 : 0,
          c.allowBareLineEndings,
          c.comment,
        ),
      );
    }
  }

  private deleteItems(tenant: TenantId): void {
    this.deleteDomains.run(tenant);
    this.deleteConnectors.run(tenant);
  }
}
