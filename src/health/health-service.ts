/**
 * Connector health for people and programs: per connector of the directory as it is now, the
 * traffic it saw (per UTC day), the client certificates and the source addresses, with the warnings
 * (warnings.ts). The CLI (`connector health`, `check --tenant`), `serve`'s log and the admin API
 * all read it here; the metrics read the certificates' expiry.
 */
import { requireTenant, type StoredDirectory } from '../directory/index.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { buildSnapshot } from '../policy/index.js';
import type { ConnectorHealthHistory, ConnectorHealthStore, DirectoryStore } from '../store/ports.js';
import { utcDay } from './recorder.js';
import { certificateInUse, connectorWarnings, DEFAULT_THRESHOLDS, lastSeenOf, type HealthThresholds, type HealthWarning } from './warnings.js';

/** Instants are ISO 8601 (UTC). */
export interface ConnectorHealth {
  tenant: string;
  tenantId: string;
  connector: string;
  type: 'OnPremises' | 'Partner';
  enabled: boolean;
  /** Null: nothing seen (in what is kept). */
  lastSeen: string | null;
  /** Newest day first, the days of the report's window that saw traffic. */
  days: Array<{ day: string; accepted: number; refused: number }>;
  /** Oldest first; the last one seen is `inUse`. */
  certificates: Array<{
    fingerprint: string;
    subject: string;
    names: string[];
    issuer: string;
    notBefore: string | null;
    notAfter: string | null;
    trusted: boolean;
    firstSeen: string;
    lastSeen: string;
    seen: number;
    nullSenders: number;
    foreignSenders: number;
    inUse: boolean;
  }>;
  /** Most recently seen first. */
  sources: Array<{ ip: string; firstSeen: string; lastSeen: string; seen: number }>;
  warnings: HealthWarning[];
}

export interface ConnectorHealthReport {
  at: string;
  /** How many days of traffic the report shows. */
  days: number;
  connectors: ConnectorHealth[];
  /** Every connector's warnings, in connector order. */
  warnings: HealthWarning[];
}

/** A certificate in use and when it expires, for the metrics. */
export interface CertificateExpiry {
  tenant: string;
  connector: string;
  fingerprint: string;
  names: string[];
  /** Epoch seconds. */
  notAfter: number;
}

export const REPORT_DAYS = 30;
const DAY = 86_400_000;

export class ConnectorHealthService {
  private readonly clock: Clock;
  private readonly thresholds: HealthThresholds;

  constructor(private readonly deps: { directory: Pick<DirectoryStore, 'load'>; health: Pick<ConnectorHealthStore, 'read'>; clock?: Clock; thresholds?: Partial<HealthThresholds> }) {
    this.clock = deps.clock ?? systemClock;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...deps.thresholds };
  }

  /** Every connector's health (or one tenant's, any case: `not-found` when there is no such tenant). */
  async report(options: { tenant?: string; days?: number } = {}): Promise<ConnectorHealthReport> {
    const now = this.clock.now();
    const days = options.days ?? REPORT_DAYS;
    const directory = await this.deps.directory.load();
    const tenants = options.tenant === undefined ? directory.tenants : [requireTenant(directory, options.tenant)];
    const since = utcDay(now.getTime() - (days - 1) * DAY);
    const histories = await this.deps.health.read({ ...(tenants.length === 1 ? { tenantId: tenants[0]!.id } : {}) });
    const byKey = new Map(histories.map((h) => [key(h.tenantId, h.connector), h]));
    const snapshot = buildSnapshot(directory);
    const connectors: ConnectorHealth[] = [];
    for (const tenant of tenants) {
      for (const c of tenant.inboundConnectors) {
        const history = byKey.get(key(tenant.id, c.name));
        connectors.push(view(tenant, c, history, since, connectorWarnings(snapshot, tenant, c, history, now, this.thresholds)));
      }
    }
    return { at: now.toISOString(), days, connectors, warnings: connectors.flatMap((c) => c.warnings) };
  }

  /** The certificate each connector saw last, with its expiry (connectors that saw none are left out). */
  async certificateExpiries(): Promise<CertificateExpiry[]> {
    const directory: StoredDirectory = await this.deps.directory.load();
    const histories = new Map((await this.deps.health.read({ since: utcDay(this.clock.now().getTime()) })).map((h) => [key(h.tenantId, h.connector), h]));
    const out: CertificateExpiry[] = [];
    for (const t of directory.tenants) {
      for (const c of t.inboundConnectors) {
        const cert = certificateInUse(histories.get(key(t.id, c.name)));
        if (cert?.notAfter != null) out.push({ tenant: t.name, connector: c.name, fingerprint: cert.fingerprint, names: cert.names, notAfter: Math.floor(cert.notAfter / 1000) });
      }
    }
    return out;
  }
}

function key(tenantId: string, connector: string): string {
  return JSON.stringify([tenantId, connector.toLowerCase()]);
}

const iso = (t: number): string => new Date(t).toISOString();

function view(
  tenant: StoredDirectory['tenants'][number],
  c: StoredDirectory['tenants'][number]['inboundConnectors'][number],
  history: ConnectorHealthHistory | undefined,
  since: string,
  warnings: HealthWarning[],
): ConnectorHealth {
  const last = lastSeenOf(history);
  const inUse = certificateInUse(history);
  return {
    tenant: tenant.name,
    tenantId: tenant.id,
    connector: c.name,
    type: c.type,
    enabled: c.enabled,
    lastSeen: last === null ? null : iso(last),
    days: (history?.days ?? []).filter((d) => d.day >= since).map((d) => ({ day: d.day, accepted: d.accepted, refused: d.refused })),
    certificates: (history?.certificates ?? []).map((x) => ({
      fingerprint: x.fingerprint,
      subject: x.subject,
      names: x.names,
      issuer: x.issuer,
      notBefore: x.notBefore === null ? null : iso(x.notBefore),
      notAfter: x.notAfter === null ? null : iso(x.notAfter),
      trusted: x.trusted,
      firstSeen: iso(x.firstSeen),
      lastSeen: iso(x.lastSeen),
      seen: x.seen,
      nullSenders: x.nullSenders,
      foreignSenders: x.foreignSenders,
      inUse: x === inUse,
    })),
    sources: (history?.sources ?? []).map((s) => ({ ip: s.ip, firstSeen: iso(s.firstSeen), lastSeen: iso(s.lastSeen), seen: s.seen })),
    warnings,
  };
}
