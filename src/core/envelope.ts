/**
 * The envelope of a message and its recipients: the one shape the SMTP front end accepts, the
 * queue stores and hands out, and delivery sends (the role Postfix gives global/deliver_request.h:
 * it sits below both the queue and the delivery agents). Times are epoch milliseconds.
 */
import type { SmtpReply } from './reply.js';

/** RFC 3461 RET: return the full message or only its headers in a DSN. */
export type DsnReturn = 'FULL' | 'HDRS';

/** MAIL FROM and its parameters (RFC 3461 ENVID/RET, RFC 6152 BODY, RFC 6531 SMTPUTF8). */
export interface Envelope {
  /** '' for the null sender. */
  mailFrom: string;
  envId: string | null;
  ret: DsnReturn | null;
  /** BODY= as declared (`8BITMIME`, `7BIT`); null when not given. */
  bodyType: string | null;
  smtputf8: boolean;
}

/** RCPT TO and its RFC 3461 parameters, as the client gave them. */
export interface EnvelopeRecipient {
  address: string;
  /** NOTIFY as given: `NEVER` or a comma list; null when not given. */
  notify: string | null;
  /** ORCPT as given (`rfc822;user@example.com`); null when not given. */
  orcpt: string | null;
}

/** A queued message as delivery reads it: the envelope and whose it is (its body is in the body store under `id`). */
export interface QueuedEnvelope extends Envelope {
  id: string;
  /** `dsn`: a notification the relay generated (never rewritten, never answered with a DSN). */
  kind: 'mail' | 'dsn';
  /**
   * Whose it is: the tenant's stable id, what its settings (DKIM key, routes, SRS) are found by.
   * Null when no tenant was attributed, or when the tenant has been removed since.
   */
  tenantId: string | null;
  /** The tenant's name as it was at acceptance, for people (a rename does not change it). */
  tenant: string | null;
  size: number;
  /** The header From (P2) address, when the message had one. */
  headerFrom: string | null;
  receivedAt: number;
  /** How many of its recipients were relayed to outside domains: what bounds the returns to its SRS sender. */
  outsideRecipients: number;
}

/** A queued recipient: `id` is how a delivery result finds its way back to the queue. */
export interface RecipientRef extends EnvelopeRecipient {
  id: number;
  /** The domain the next hop is chosen by. */
  domain: string;
  /**
   * The tenant relayed it to an outside domain (the policy's `relay` verdict at acceptance): only
   * a transaction to such recipients carries an SRS-rewritten sender.
   */
  relayed: boolean;
}

/**
 * One message's recipients for one next hop: what a courier carries in one transaction. They are
 * all relayed or none is (the two kinds may need different envelope senders).
 */
export interface Job {
  /** Shared by all the jobs of one message in a pass (a courier may prepare the message once per object). */
  message: QueuedEnvelope;
  recipients: readonly RecipientRef[];
}

/**
 * How wide a delivery failure is (Postfix's rule; delivery/outcome.ts classifies):
 * - connection: we could not talk to the host; host: it talked but takes no mail from us now
 *   (both: try the next host);
 * - message: it refused this message (other hosts would say the same); recipient: it refused one recipient.
 */
export type FailureScope = 'connection' | 'host' | 'message' | 'recipient';

export interface DeliveryFailure {
  readonly scope: FailureScope;
  readonly permanent: boolean;
  /** The reply to record and to quote in a DSN (the peer's own when it gave one). */
  readonly reply: SmtpReply;
  /** True when the reply came from the remote host (Diagnostic-Code: smtp; ...). */
  readonly remote: boolean;
}

export function formatFailure(f: DeliveryFailure): string {
  return `${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`;
}

/** What became of one recipient of a job (the queue maps it to the recipient's next state). */
/** What the trace keeps of the attempt that gave a result. */
export interface AttemptFacts {
  /** The host talked to last (its name) and its address; null when none could be reached. */
  host: string | null;
  address: string | null;
  /** e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`; null when the session was cleartext or never opened. */
  tls: string | null;
  /** From the start of the attempt to this result. */
  durationMs: number;
}

export type RecipientResult =
  | { kind: 'delivered'; reply: SmtpReply; host: string; attempt?: AttemptFacts }
  /** `host`: the remote host that gave the failure's reply; null for our own verdict. */
  | { kind: 'failed'; failure: DeliveryFailure; host: string | null; attempt?: AttemptFacts }
  /** Not tried: a throttle said to wait until `retryAt`; no attempt is counted. */
  | { kind: 'throttled'; retryAt: number; text: string };

/** True when the body was declared 8-bit (BODY=8BITMIME). */
export function isEightBit(envelope: Pick<Envelope, 'bodyType'>): boolean {
  return (envelope.bodyType ?? '').toUpperCase() === '8BITMIME';
}
