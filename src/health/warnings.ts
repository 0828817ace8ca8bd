/**
 * The warnings of a connector's health: facts in (the directory as it is now, what the connector
 * saw, the instant), warnings out. Every judgement is the policy engine's: a certificate's dates
 * through judgeCertificate (asked about the instant 30 days ahead for "expires soon"), whether a
 * certificate is attributed to the connector and whether its name satisfies condition 1a through
 * evaluate() with the certificate's names, as the tenant audit probes it. Nothing is re-derived.
 */
import type { InboundConnector, Tenant } from '../directory/model.js';
import { evaluate, type DirectorySnapshot } from '../policy/index.js';
import { judgeCertificate } from '../policy/certificate-judgement.js';
import type { ConnectorHealthHistory } from '../store/ports.js';

export type HealthWarningCode = 'certificate-expiring' | 'certificate-expired' | 'certificate-renamed' | 'certificate-name-not-accepted' | 'no-traffic';

export interface HealthWarning {
  code: HealthWarningCode;
  tenant: string;
  connector: string;
  message: string;
  /** The certificate the warning is about, when it is about one. */
  fingerprint?: string;
}

export interface HealthThresholds {
  /** A certificate in use that expires within this many days is warned about. */
  expiryDays: number;
  /** A connector that saw traffic once and none for this many days is warned about. */
  silenceDays: number;
  /** A certificate first seen this many days ago or less is "new" (the renamed warning). */
  newCertificateDays: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = Object.freeze({ expiryDays: 30, silenceDays: 7, newCertificateDays: 30 });

const DAY = 86_400_000;
/** Where a probe connects from: an address of no connector, so only the certificate attributes it (as in the audit). */
const NO_CONNECTOR_ADDRESS = '0.0.0.0';
const OUTSIDE_RECIPIENT = 'health-probe@relaygate-health.invalid';

type SeenCertificate = ConnectorHealthHistory['certificates'][number];

/** The latest instant anything was seen on the connector; null when nothing was. */
export function lastSeenOf(history: ConnectorHealthHistory | undefined): number | null {
  if (!history) return null;
  const all = [...history.days, ...history.certificates, ...history.sources].map((x) => x.lastSeen);
  return all.length === 0 ? null : Math.max(...all);
}

/** The certificate the connector saw last: the one in use. */
export function certificateInUse(history: ConnectorHealthHistory | undefined): SeenCertificate | null {
  const certs = history?.certificates ?? [];
  // Ties go to the one first seen later (the newer certificate).
  return certs.reduce<SeenCertificate | null>((a, c) => (a === null || c.lastSeen > a.lastSeen || (c.lastSeen === a.lastSeen && c.firstSeen >= a.firstSeen) ? c : a), null);
}

export function connectorWarnings(
  snapshot: DirectorySnapshot,
  tenant: Tenant,
  connector: InboundConnector,
  history: ConnectorHealthHistory | undefined,
  now: Date,
  thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
): HealthWarning[] {
  const at = { tenant: tenant.name, connector: connector.name };
  const out: HealthWarning[] = [];
  const inUse = certificateInUse(history);
  if (inUse) {
    const expiry = expiryWarning(inUse, now, thresholds);
    if (expiry) out.push({ ...at, ...expiry, fingerprint: inUse.fingerprint });
  }
  const renamed = renamedWarning(snapshot, tenant, connector, history, now, thresholds);
  if (renamed) out.push({ ...at, ...renamed });
  for (const c of history?.certificates ?? []) {
    if (now.getTime() - c.lastSeen > thresholds.expiryDays * DAY) continue;
    if (c.nullSenders + c.foreignSenders === 0) continue;
    const probe = probeCertificate(snapshot, connector, tenant, c, now);
    if (probe.attributed && probe.certificateNameAccepted === false) {
      const kinds = [
        c.nullSenders > 0 ? `${c.nullSenders} with the null sender` : null,
        c.foreignSenders > 0 ? `${c.foreignSenders} with an envelope sender not in ${tenant.name}'s accepted domains` : null,
      ].filter((k): k is string => k !== null);
      out.push({
        ...at,
        code: 'certificate-name-not-accepted',
        fingerprint: c.fingerprint,
        message:
          `certificate ${names(c)} is not an accepted domain of ${tenant.name}, and ${kinds.join(' and ')} arrived on it: ` +
          `relaying them is refused (condition 1a not met; 550 5.7.64). Add ${c.names[0] ?? 'the certificate name'} as an accepted domain of ${tenant.name}.`,
      });
    }
  }
  const last = lastSeenOf(history);
  if (connector.enabled && last !== null && now.getTime() - last >= thresholds.silenceDays * DAY) {
    const days = Math.floor((now.getTime() - last) / DAY);
    out.push({ ...at, code: 'no-traffic', message: `no traffic for ${days} days (last seen ${new Date(last).toISOString()}).` });
  }
  return out;
}

function expiryWarning(c: SeenCertificate, now: Date, t: HealthThresholds): Pick<HealthWarning, 'code' | 'message'> | null {
  // Only the dates are asked about here: whether the chain verified is another matter.
  const facts = {
    names: c.names,
    trusted: true,
    ...(c.notBefore === null ? {} : { notBefore: new Date(c.notBefore).toISOString() }),
    ...(c.notAfter === null ? {} : { notAfter: new Date(c.notAfter).toISOString() }),
  };
  const expiredAt = (instant: Date): boolean => judgeCertificate(facts, instant).reason?.startsWith('expired') === true;
  if (c.notAfter === null) return null;
  const until = new Date(c.notAfter).toISOString();
  if (expiredAt(now)) {
    return { code: 'certificate-expired', message: `the certificate in use (${names(c)}) expired on ${until}: its names no longer count, mail on it is not attributed by certificate.` };
  }
  if (!expiredAt(new Date(now.getTime() + t.expiryDays * DAY))) return null;
  const days = Math.ceil((c.notAfter - now.getTime()) / DAY);
  return { code: 'certificate-expiring', message: `the certificate in use (${names(c)}) expires on ${until}, in ${days} ${days === 1 ? 'day' : 'days'}: renew it, with the same names.` };
}

/** The newest certificate (by first sighting), when it is new and its names differ from the one before it. */
function renamedWarning(
  snapshot: DirectorySnapshot,
  tenant: Tenant,
  connector: InboundConnector,
  history: ConnectorHealthHistory | undefined,
  now: Date,
  t: HealthThresholds,
): Pick<HealthWarning, 'code' | 'message' | 'fingerprint'> | null {
  const certs = [...(history?.certificates ?? [])].sort((a, b) => a.firstSeen - b.firstSeen || a.lastSeen - b.lastSeen);
  if (certs.length < 2) return null;
  const newest = certs.at(-1)!;
  const before = certs.at(-2)!;
  if (now.getTime() - newest.firstSeen > t.newCertificateDays * DAY) return null;
  if (sameNames(newest.names, before.names)) return null;
  const probe = probeCertificate(snapshot, connector, tenant, newest, now);
  const consequence = probe.attributed
    ? probe.certificateNameAccepted === false
      ? `it still matches the connector, but no name of it is an accepted domain of ${tenant.name}: bounces and mail from foreign senders are refused (condition 1a not met; 550 5.7.64).`
      : 'it still matches the connector.'
    : `it does not match the connector's certificate name ${connector.tlsSenderCertificateName ?? '(none)'}: its mail is not attributed by certificate any more (550 5.7.64 for relay).`;
  return {
    code: 'certificate-renamed',
    fingerprint: newest.fingerprint,
    message: `a new certificate (first seen ${new Date(newest.firstSeen).toISOString()}) is named ${names(newest)}, the one before it ${names(before)}: ${consequence}`,
  };
}

/** What the engine makes of this certificate (trusted, valid now) on a connection of no connector's address. */
function probeCertificate(
  snapshot: DirectorySnapshot,
  connector: InboundConnector,
  tenant: Tenant,
  c: SeenCertificate,
  now: Date,
): { attributed: boolean; certificateNameAccepted: boolean | null } {
  const decision = evaluate(snapshot, {
    connection: { ip: NO_CONNECTOR_ADDRESS, tls: true, certificate: { names: c.names, trusted: true } },
    message: { mailFrom: '', recipients: [OUTSIDE_RECIPIENT] },
    at: now,
  });
  const attributed =
    decision.attribution === 'cert' &&
    decision.connector?.toLowerCase() === connector.name.toLowerCase() &&
    (decision.tenantId !== null && tenant.id !== undefined ? decision.tenantId === tenant.id : decision.tenant === tenant.name);
  return { attributed, certificateNameAccepted: decision.recipients[0]?.conditions?.certificateNameAccepted ?? null };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map((n) => n.toLowerCase()));
  const y = new Set(b.map((n) => n.toLowerCase()));
  return x.size === y.size && [...x].every((n) => y.has(n));
}

function names(c: SeenCertificate): string {
  return c.names.length === 0 ? '(no names)' : c.names.join(', ');
}
