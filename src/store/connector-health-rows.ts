/**
 * The connector health rows both adapters read (SQLite and PostgreSQL select the same columns),
 * mapped to the port's records in one place.
 */
import type { TenantId } from '../directory/index.js';
import type { ConnectorHealthHistory } from './ports.js';

export interface TrafficRow {
  tenant_id: string;
  connector: string;
  day: string;
  accepted: number;
  refused: number;
  last_seen: number;
}

export interface CertificateRow {
  tenant_id: string;
  connector: string;
  fingerprint: string;
  subject: string;
  names: string[];
  issuer: string;
  not_before: number | null;
  not_after: number | null;
  trusted: boolean;
  first_seen: number;
  last_seen: number;
  seen: number;
  null_senders: number;
  foreign_senders: number;
}

export interface SourceRow {
  tenant_id: string;
  connector: string;
  ip: string;
  first_seen: number;
  last_seen: number;
  seen: number;
}

export const TRAFFIC_ORDER = 'tenant_id, connector, day DESC';
export const CERTIFICATE_ORDER = 'tenant_id, connector, first_seen, fingerprint';
export const SOURCE_ORDER = 'tenant_id, connector, last_seen DESC, ip';

/** Groups the rows (each list in its ORDER) into one history per connector, in tenant id then connector order. */
export function connectorHistories(traffic: TrafficRow[], certificates: CertificateRow[], sources: SourceRow[]): ConnectorHealthHistory[] {
  const byKey = new Map<string, ConnectorHealthHistory>();
  const of = (tenantId: TenantId, connector: string): ConnectorHealthHistory => {
    const key = JSON.stringify([tenantId, connector]);
    let h = byKey.get(key);
    if (!h) byKey.set(key, (h = { tenantId, connector, days: [], certificates: [], sources: [] }));
    return h;
  };
  for (const r of traffic) of(r.tenant_id, r.connector).days.push({ day: r.day, accepted: r.accepted, refused: r.refused, lastSeen: r.last_seen });
  for (const r of certificates) {
    of(r.tenant_id, r.connector).certificates.push({
      fingerprint: r.fingerprint,
      subject: r.subject,
      names: r.names,
      issuer: r.issuer,
      notBefore: r.not_before,
      notAfter: r.not_after,
      trusted: r.trusted,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      seen: r.seen,
      nullSenders: r.null_senders,
      foreignSenders: r.foreign_senders,
    });
  }
  for (const r of sources) of(r.tenant_id, r.connector).sources.push({ ip: r.ip, firstSeen: r.first_seen, lastSeen: r.last_seen, seen: r.seen });
  return [...byKey.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.connector < b.connector ? -1 : a.connector > b.connector ? 1 : 0));
}
