/**
 * Gathers what the SMTP front end saw per connector in memory (traffic per day, certificates,
 * source addresses) and writes it in one batch of upserts every few seconds and at shutdown, so
 * the accept path never waits on it. Which connector saw the traffic and whether its sender was
 * the tenant's come from the engine's decision; nothing is judged here.
 *
 * One correlation of our own, for diagnosis only: a certificate that no connector matched, from
 * an address where a connector matched an earlier certificate, is recorded on that connector too.
 * That is how a renewal that changed the names shows (the new certificate matches nothing, and
 * the server's bounces get 5.7.64).
 */
import type { LogFn } from '../observability/logger.js';
import { messageOf } from '../core/errors.js';
import type { CertificateSighting, ConnectorHealthBatch, ConnectorHealthHistory, ConnectorHealthStore, ConnectorRef, SourceSighting, TrafficCount } from '../store/ports.js';
import type { TrafficObservation, TrafficObserver } from '../smtp/traffic-observer.js';

export interface RecorderOptions {
  store: Pick<ConnectorHealthStore, 'record'>;
  /** How often the gathered sightings are written (milliseconds). */
  flushMs?: number;
  /**
   * At most this many distinct rows wait for a flush; past it new keys are counted as dropped
   * (a flood from many addresses cannot grow memory), existing ones still add up.
   */
  maxPending?: number;
  log?: LogFn;
}

export const DEFAULT_FLUSH_MS = 5_000;
const DEFAULT_MAX_PENDING = 50_000;
const MAX_CERTIFICATE_SOURCES = 10_000;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export class ConnectorHealthRecorder implements TrafficObserver {
  private traffic = new Map<string, TrafficCount>();
  private certificates = new Map<string, CertificateSighting>();
  private sources = new Map<string, SourceSighting>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private dropped = 0;
  private readonly maxPending: number;
  /** Source address → the connectors that matched a certificate from it (most recent last; bounded). */
  private readonly certificateSources = new Map<string, ConnectorRef[]>();

  constructor(private readonly options: RecorderOptions) {
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  }

  /** Remembers where certificate connectors' earlier certificates came from (what the store kept). */
  seed(histories: readonly ConnectorHealthHistory[]): void {
    for (const h of histories) {
      if (h.certificates.length === 0) continue;
      for (const s of [...h.sources].reverse()) this.rememberCertificateSource(s.ip, { tenantId: h.tenantId, connector: h.connector });
    }
  }

  observe(o: TrafficObservation): void {
    let refs = connectorsOf(o);
    if (o.certificate && o.decision.attribution === 'cert') for (const r of refs) this.rememberCertificateSource(o.ip, r);
    if (refs.length === 0 && o.certificate) refs = this.certificateSources.get(o.ip) ?? [];
    if (refs.length === 0) return;
    const nullSender = o.mailFrom === '';
    // The engine's own judgement (condition 1b) of the envelope sender, for the tenant that owns the connection.
    const foreignSender = !nullSender && o.mailFrom !== null && o.recipients.some((r) => r.conditions?.envelopeSenderAccepted === false);
    for (const ref of refs) {
      const day = utcDay(o.at);
      const t = this.entry(this.traffic, [ref.tenantId, ref.connector, day], () => ({ ...ref, day, accepted: 0, refused: 0, lastSeen: o.at }));
      if (t) {
        if (o.outcome !== 'abandoned') t[o.outcome]++;
        t.lastSeen = Math.max(t.lastSeen, o.at);
      }
      const s = this.entry(this.sources, [ref.tenantId, ref.connector, o.ip], () => ({ ...ref, ip: o.ip, firstSeen: o.at, lastSeen: o.at, seen: 0 }));
      if (s) seen(s, o.at);
      const cert = o.certificate;
      if (!cert?.presented.fingerprint) continue;
      const c = this.entry(this.certificates, [ref.tenantId, ref.connector, cert.presented.fingerprint], () => ({
        ...ref,
        fingerprint: cert.presented.fingerprint!,
        subject: cert.presented.subject ?? '',
        names: cert.facts.names.map((n) => n.toLowerCase()),
        issuer: cert.presented.issuerName ?? cert.presented.issuer,
        notBefore: instant(cert.facts.notBefore),
        notAfter: instant(cert.facts.notAfter),
        trusted: cert.facts.trusted,
        firstSeen: o.at,
        lastSeen: o.at,
        seen: 0,
        nullSenders: 0,
        foreignSenders: 0,
      }));
      if (!c) continue;
      seen(c, o.at);
      if (nullSender) c.nullSenders++;
      if (foreignSender) c.foreignSenders++;
    }
  }

  /** Writes every `flushMs` from now on. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushMs ?? DEFAULT_FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what was gathered (one batch at a time); a failed write is logged and its sightings are lost. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  private async write(): Promise<void> {
    const batch: ConnectorHealthBatch = { traffic: [...this.traffic.values()], certificates: [...this.certificates.values()], sources: [...this.sources.values()] };
    this.traffic = new Map();
    this.certificates = new Map();
    this.sources = new Map();
    const dropped = this.dropped;
    this.dropped = 0;
    if (dropped > 0) this.options.log?.('warn', `connector health: ${dropped} sightings not recorded: more than ${this.maxPending} waited for one write`);
    if (batch.traffic.length + batch.certificates.length + batch.sources.length === 0) return;
    try {
      await this.options.store.record(batch);
    } catch (err) {
      this.options.log?.('error', `connector health: could not record ${batch.traffic.length} traffic counts: ${messageOf(err)}`);
    }
  }

  private rememberCertificateSource(ip: string, ref: ConnectorRef): void {
    const known = (this.certificateSources.get(ip) ?? []).filter((r) => r.tenantId !== ref.tenantId || r.connector !== ref.connector.toLowerCase());
    this.certificateSources.delete(ip);
    this.certificateSources.set(ip, [...known, { tenantId: ref.tenantId, connector: ref.connector.toLowerCase() }].slice(-4));
    if (this.certificateSources.size > MAX_CERTIFICATE_SOURCES) this.certificateSources.delete(this.certificateSources.keys().next().value!);
  }

  private entry<T>(map: Map<string, T>, key: string[], make: () => T): T | null {
    const k = JSON.stringify(key);
    let e = map.get(k);
    if (e) return e;
    if (this.traffic.size + this.certificates.size + this.sources.size >= this.maxPending) {
      this.dropped++;
      return null;
    }
    map.set(k, (e = make()));
    return e;
  }
}

/**
 * The connectors the traffic came through: the one that attributed the connection (its tenant's
 * OnPremises connector) and the recipients' tenants' Partner connectors that applied.
 */
function connectorsOf(o: TrafficObservation): ConnectorRef[] {
  const refs = new Map<string, ConnectorRef>();
  const add = (tenantId: string | null, connector: string | null): void => {
    if (tenantId === null || connector === null) return;
    const ref = { tenantId, connector: connector.toLowerCase() };
    refs.set(JSON.stringify([ref.tenantId, ref.connector]), ref);
  };
  add(o.decision.tenantId, o.decision.connector);
  for (const r of o.recipients) add(r.tenantId, r.partnerConnector);
  return [...refs.values()];
}

function seen(s: { firstSeen: number; lastSeen: number; seen: number }, at: number): void {
  s.seen++;
  s.firstSeen = Math.min(s.firstSeen, at);
  s.lastSeen = Math.max(s.lastSeen, at);
}

function instant(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}
