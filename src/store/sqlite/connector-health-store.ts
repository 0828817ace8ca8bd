/**
 * Connector health on SQLite (migration 014). A batch is one IMMEDIATE transaction of upserts;
 * each row is inserted only while its tenant exists (a tenant removed since the sighting takes its
 * history along, and a late batch does not bring it back).
 */
import type { ConnectorHealthBatch, ConnectorHealthHistory, ConnectorHealthStore } from '../ports.js';
import type { TenantId } from '../../directory/index.js';
import type { UtcDay } from '../ports.js';
import { CERTIFICATE_ORDER, connectorHistories, SOURCE_ORDER, TRAFFIC_ORDER, type CertificateRow, type SourceRow, type TrafficRow } from '../connector-health-rows.js';
import { statement, type SqliteDatabase } from './database.js';

const TENANT_EXISTS = 'WHERE EXISTS (SELECT 1 FROM tenants WHERE id = @tenantId)';

export class SqliteConnectorHealthStore implements ConnectorHealthStore {
  private readonly recordTx;

  constructor(private readonly db: SqliteDatabase) {
    this.recordTx = db.transaction((batch: ConnectorHealthBatch) => {
      const traffic = statement(
        db,
        `INSERT INTO connector_traffic (tenant_id, connector, day, accepted, refused, last_seen)
         SELECT @tenantId, @connector, @day, @accepted, @refused, @lastSeen ${TENANT_EXISTS}
         ON CONFLICT (tenant_id, connector, day) DO UPDATE SET accepted = accepted + excluded.accepted,
           refused = refused + excluded.refused, last_seen = MAX(last_seen, excluded.last_seen)`,
      );
      for (const t of batch.traffic) traffic.run({ ...t, connector: t.connector.toLowerCase() });
      const certificate = statement(
        db,
        `INSERT INTO connector_certificates (tenant_id, connector, fingerprint, subject, names, issuer, not_before, not_after, trusted,
           first_seen, last_seen, seen, null_senders, foreign_senders)
         SELECT @tenantId, @connector, @fingerprint, @subject, @names, @issuer, @notBefore, @notAfter, @trusted,
           @firstSeen, @lastSeen, @seen, @nullSenders, @foreignSenders ${TENANT_EXISTS}
         ON CONFLICT (tenant_id, connector, fingerprint) DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen),
           last_seen = MAX(last_seen, excluded.last_seen), seen = seen + excluded.seen,
           null_senders = null_senders + excluded.null_senders, foreign_senders = foreign_senders + excluded.foreign_senders`,
      );
      for (const c of batch.certificates) {
        certificate.run({
          tenantId: c.tenantId,
          connector: c.connector.toLowerCase(),
          fingerprint: c.fingerprint,
          subject: c.subject,
          names: JSON.stringify(c.names),
          issuer: c.issuer,
          notBefore: c.notBefore,
          notAfter: c.notAfter,
          trusted: c.trusted ? 1 : 0,
          firstSeen: c.firstSeen,
          lastSeen: c.lastSeen,
          seen: c.seen,
          nullSenders: c.nullSenders,
          foreignSenders: c.foreignSenders,
        });
      }
      const source = statement(
        db,
        `INSERT INTO connector_sources (tenant_id, connector, ip, first_seen, last_seen, seen)
         SELECT @tenantId, @connector, @ip, @firstSeen, @lastSeen, @seen ${TENANT_EXISTS}
         ON CONFLICT (tenant_id, connector, ip) DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen),
           last_seen = MAX(last_seen, excluded.last_seen), seen = seen + excluded.seen`,
      );
      for (const s of batch.sources) source.run({ ...s, connector: s.connector.toLowerCase() });
    });
  }

  async record(batch: ConnectorHealthBatch): Promise<void> {
    this.recordTx.immediate(batch);
  }

  async read(filter: { tenantId?: TenantId; since?: UtcDay } = {}): Promise<ConnectorHealthHistory[]> {
    const tenant = filter.tenantId === undefined ? '' : 'AND tenant_id = @tenantId';
    const params = { tenantId: filter.tenantId ?? null, since: filter.since ?? '' };
    return this.db.transaction(() => {
      const traffic = statement(this.db, `SELECT * FROM connector_traffic WHERE day >= @since ${tenant} ORDER BY ${TRAFFIC_ORDER}`).all(params) as TrafficRow[];
      const certificates = (statement(this.db, `SELECT * FROM connector_certificates WHERE 1 = 1 ${tenant} ORDER BY ${CERTIFICATE_ORDER}`).all(params) as Array<
        Omit<CertificateRow, 'names' | 'trusted'> & { names: string; trusted: number }
      >).map((r) => ({ ...r, names: JSON.parse(r.names) as string[], trusted: r.trusted === 1 }));
      const sources = statement(this.db, `SELECT * FROM connector_sources WHERE 1 = 1 ${tenant} ORDER BY ${SOURCE_ORDER}`).all(params) as SourceRow[];
      return connectorHistories(traffic, certificates, sources);
    })();
  }

  async prune(day: UtcDay, before: number): Promise<number> {
    return this.db.transaction(
      () =>
        statement(this.db, 'DELETE FROM connector_traffic WHERE day < ?').run(day).changes +
        statement(this.db, 'DELETE FROM connector_certificates WHERE last_seen < ?').run(before).changes +
        statement(this.db, 'DELETE FROM connector_sources WHERE last_seen < ?').run(before).changes,
    ).immediate();
  }
}
