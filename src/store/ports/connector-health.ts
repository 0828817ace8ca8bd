import type { TenantId } from '../../directory/index.js';
import type { UtcDay } from './quota-counters.js';

/**
 * A connector as its health history knows it: its tenant's id (a ULID a rename keeps) and its
 * name, which is how the directory tells a tenant's connectors apart; the store compares and keeps
 * the name lower-cased. A tenant's removal takes its history along.
 */
export interface ConnectorRef {
  tenantId: TenantId;
  connector: string;
}

/** A client certificate as presented in the TLS handshake (whether or not its chain verified). */
export interface SeenCertificate {
  /** SHA-256 of the DER certificate, upper-case hex pairs separated by colons (as Node prints it). */
  fingerprint: string;
  /** The subject distinguished name, one `KEY=value` per line as Node renders it. */
  subject: string;
  /** Subject CN plus every DNS subjectAltName, lower case, in that order. */
  names: string[];
  /** The issuer distinguished name. */
  issuer: string;
  /** Epoch milliseconds; null when the certificate's dates could not be read. */
  notBefore: number | null;
  notAfter: number | null;
  /** The chain verified against the trusted client CAs. */
  trusted: boolean;
}

/** Counts of one connector's one UTC day, to add. */
export interface TrafficCount extends ConnectorRef {
  day: UtcDay;
  /** Messages accepted (queued). */
  accepted: number;
  /** Commands refused (a MAIL FROM, a recipient, a message at the end of DATA). */
  refused: number;
  /** Epoch milliseconds of the latest of them. */
  lastSeen: number;
}

/** Sightings of one certificate on one connector, to add. */
export interface CertificateSighting extends ConnectorRef, SeenCertificate {
  firstSeen: number;
  lastSeen: number;
  /** Outcomes it carried: each refused command, each message, each transaction left unfinished. */
  seen: number;
  /** Of those, with the null envelope sender (bounces, out-of-office replies). */
  nullSenders: number;
  /** Of those, with an envelope sender whose domain the tenant does not accept (as the engine judged it). */
  foreignSenders: number;
}

/** Sightings of one source address on one connector, to add. */
export interface SourceSighting extends ConnectorRef {
  ip: string;
  firstSeen: number;
  lastSeen: number;
  seen: number;
}

/** What the front end saw in a few seconds, written at once. */
export interface ConnectorHealthBatch {
  traffic: TrafficCount[];
  certificates: CertificateSighting[];
  sources: SourceSighting[];
}

export interface TrafficDay {
  day: UtcDay;
  accepted: number;
  refused: number;
  lastSeen: number;
}

/** Everything kept of one connector. */
export interface ConnectorHealthHistory extends ConnectorRef {
  /** Newest day first. */
  days: TrafficDay[];
  /** Oldest first sighting first (the last one is the newest certificate). */
  certificates: Array<Omit<CertificateSighting, 'tenantId' | 'connector'>>;
  /** Most recently seen first. */
  sources: Array<Omit<SourceSighting, 'tenantId' | 'connector'>>;
}

/**
 * Per connector: its traffic per day, the client certificates and the source addresses it saw.
 * Written in batches by the SMTP front end (never on the accept path), read by the health report.
 */
export interface ConnectorHealthStore {
  /**
   * Adds the batch in one transaction: counts add up, a first sighting keeps the earliest instant and
   * a last one the latest, whichever order batches (of any node) arrive in. Rows of a tenant the
   * directory no longer has are dropped, not an error.
   */
  record(batch: ConnectorHealthBatch): Promise<void>;
  /** The history of every connector (of one tenant), in tenant id then connector order; days from `since` on. */
  read(filter?: { tenantId?: TenantId; since?: UtcDay }): Promise<ConnectorHealthHistory[]>;
  /** Forgets days before `day` and certificates and sources last seen before `before`; returns how many rows went. */
  prune(day: UtcDay, before: number): Promise<number>;
}
