/**
 * Connector health on PostgreSQL (migration 011). A batch is one transaction of upserts, rows in
 * key order so two nodes flushing at once never deadlock; each row is inserted only while its
 * tenant exists (a tenant removed since the sighting takes its history along).
 */
import type { CertificateSighting, ConnectorHealthBatch, ConnectorHealthHistory, ConnectorHealthStore, SourceSighting, TrafficCount, UtcDay } from '../ports.js';
import type { TenantId } from '../../directory/index.js';
import { CERTIFICATE_ORDER, connectorHistories, SOURCE_ORDER, TRAFFIC_ORDER, type CertificateRow, type SourceRow, type TrafficRow } from '../connector-health-rows.js';
import type { PgDatabase } from './database.js';

const byKey = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const lower = <T extends { connector: string }>(t: T): T => ({ ...t, connector: t.connector.toLowerCase() });

export class PgConnectorHealthStore implements ConnectorHealthStore {
  constructor(private readonly db: PgDatabase) {}

  async record(batch: ConnectorHealthBatch): Promise<void> {
    const traffic = batch.traffic.map(lower).sort(byKey((t: TrafficCount) => JSON.stringify([t.tenantId, t.connector, t.day])));
    const certificates = batch.certificates.map(lower).sort(byKey((c: CertificateSighting) => JSON.stringify([c.tenantId, c.connector, c.fingerprint])));
    const sources = batch.sources.map(lower).sort(byKey((s: SourceSighting) => JSON.stringify([s.tenantId, s.connector, s.ip])));
    await this.db.transaction(async (tx) => {
      for (const t of traffic) {
        await tx.query(
          `INSERT INTO connector_traffic AS c (tenant_id, connector, day, accepted, refused, last_seen)
           SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1)
           ON CONFLICT (tenant_id, connector, day) DO UPDATE SET accepted = c.accepted + excluded.accepted,
             refused = c.refused + excluded.refused, last_seen = GREATEST(c.last_seen, excluded.last_seen)`,
          [t.tenantId, t.connector, t.day, t.accepted, t.refused, t.lastSeen],
        );
      }
      for (const c of certificates) {
        await tx.query(
          `INSERT INTO connector_certificates AS c (tenant_id, connector, fingerprint, subject, names, issuer, not_before, not_after, trusted,
             first_seen, last_seen, seen, null_senders, foreign_senders)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1)
           ON CONFLICT (tenant_id, connector, fingerprint) DO UPDATE SET first_seen = LEAST(c.first_seen, excluded.first_seen),
             last_seen = GREATEST(c.last_seen, excluded.last_seen), seen = c.seen + excluded.seen,
             null_senders = c.null_senders + excluded.null_senders, foreign_senders = c.foreign_senders + excluded.foreign_senders`,
          [c.tenantId, c.connector, c.fingerprint, c.subject, c.names, c.issuer, c.notBefore, c.notAfter, c.trusted, c.firstSeen, c.lastSeen, c.seen, c.nullSenders, c.foreignSenders],
        );
      }
      for (const s of sources) {
        await tx.query(
          `INSERT INTO connector_sources AS c (tenant_id, connector, ip, first_seen, last_seen, seen)
           SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1)
           ON CONFLICT (tenant_id, connector, ip) DO UPDATE SET first_seen = LEAST(c.first_seen, excluded.first_seen),
             last_seen = GREATEST(c.last_seen, excluded.last_seen), seen = c.seen + excluded.seen`,
          [s.tenantId, s.connector, s.ip, s.firstSeen, s.lastSeen, s.seen],
        );
      }
    });
  }

  read(filter: { tenantId?: TenantId; since?: UtcDay } = {}): Promise<ConnectorHealthHistory[]> {
    const tenant = filter.tenantId === undefined ? '$1::text IS NULL' : 'tenant_id = $1';
    const id = filter.tenantId ?? null;
    return this.db.transaction(
      async (tx) => {
        const traffic = (await tx.query<TrafficRow>(`SELECT * FROM connector_traffic WHERE ${tenant} AND day >= $2 ORDER BY ${TRAFFIC_ORDER}`, [id, filter.since ?? ''])).rows;
        const certificates = (await tx.query<CertificateRow>(`SELECT * FROM connector_certificates WHERE ${tenant} ORDER BY ${CERTIFICATE_ORDER}`, [id])).rows;
        const sources = (await tx.query<SourceRow>(`SELECT * FROM connector_sources WHERE ${tenant} ORDER BY ${SOURCE_ORDER}`, [id])).rows;
        return connectorHistories(traffic, certificates, sources);
      },
      { readOnly: true },
    );
  }

  prune(day: UtcDay, before: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const days = (await tx.query('DELETE FROM connector_traffic WHERE day < $1', [day])).rowCount ?? 0;
      const certificates = (await tx.query('DELETE FROM connector_certificates WHERE last_seen < $1', [before])).rowCount ?? 0;
      const sources = (await tx.query('DELETE FROM connector_sources WHERE last_seen < $1', [before])).rowCount ?? 0;
      return days + certificates + sources;
    });
  }
}
