import type { SMTPServerSession } from 'smtp-server';
import type { Envelope, EnvelopeRecipient } from '../core/envelope.js';
import type { BareLineEndingPolicy } from '../directory/model.js';
import type { CertificateFacts, ConnectionFacts, RecipientDecision, TransactionDecision } from '../policy/types.js';
import type { PresentedCertificate } from '../tls/certificate-facts.js';
import type { PresentedCertificateRecord } from '../trace/events.js';
import type { ReplyControl } from './reply-control.js';
import type { EstablishedSrsReturn } from './srs-return-facts.js';

/** The listener a connection arrived on, as the session needs it. */
export interface ListenerInfo {
  name: string;
  tls: 'starttls' | 'implicit' | 'none';
  maxMessageSize: number;
}

/** The TLS parameters recorded in the Received header and the queue. */
export interface TlsInfo {
  protocol: string;
  cipher: string;
  /** The client certificate presented in the handshake, as the Received header names it. */
  clientCertificate?: PresentedCertificate | null;
  /** The same certificate as the trace keeps it (subject, SANs, issuer, fingerprint, validity, trust). */
  certificateRecord?: PresentedCertificateRecord | null;
}

/** A recipient accepted at RCPT (possibly provisionally: verdict `pending`). */
export interface TransactionRecipient extends EnvelopeRecipient {
  decision: RecipientDecision;
  /** The whole decision the recipient's came from (steps, certificate judgement) for the log. */
  transaction: TransactionDecision;
  /** For a bounce accepted to an SRS address: its facts and the return it counted. */
  srsReturn: EstablishedSrsReturn | null;
}

/** One mail transaction (MAIL FROM up to the end of DATA or RSET). */
export interface Transaction extends Envelope {
  at: Date;
  /** 1 for the session's first MAIL FROM: the trace tells a session's transactions apart by it. */
  number: number;
  /** The EHLO/HELO name given before this MAIL FROM. */
  helo: string | null;
  mailDecision: TransactionDecision;
  recipients: TransactionRecipient[];
  /** Accept decisions not yet written: they are recorded with the queue id once it exists. */
  unrecordedAccepts: TransactionRecipient[];
  /** The header From (P2) once the headers were read: recorded with the decisions. */
  headerFrom?: string | null;
}

/** Everything the relay knows about one SMTP connection: facts built once, then per transaction. */
export interface ConnectionContext {
  readonly id: string;
  readonly listener: ListenerInfo;
  /** The source IP the policy judges: the TCP peer, or the PROXY address from a trusted proxy. */
  readonly ip: string;
  /** The TCP peer (the proxy itself when PROXY was used). */
  readonly peerIp: string;
  tls: TlsInfo | null;
  certificate: CertificateFacts | null;
  /** Plaintext bytes followed the STARTTLS command: answered 421 once TLS is up. */
  startTlsInjection: boolean;
  replies: ReplyControl | null;
  transaction: Transaction | null;
  /** The command line being handled, as the client's bytes (smtp-server's copy is decoded). */
  commandLine: Buffer | null;
  /** Refusals so far; at the limit the connection is closed. */
  errors: number;
  /** Frees the connection's slot and context; idempotent. Also bound to the TLS socket after STARTTLS. */
  release: () => void;
  /** The line-ending policy of the connector that owns the connection (normalize for legacy devices). */
  bareLineEndings: BareLineEndingPolicy;
  /** The session's trace: MAIL FROM commands so far, and whether its `connected` event is written. */
  trace: { transactions: number; connected: boolean };
}

export function connectionFacts(ctx: ConnectionContext): ConnectionFacts {
  return { ip: ctx.ip, tls: ctx.tls !== null, certificate: ctx.certificate };
}

export function heloOf(session: SMTPServerSession): string | null {
  const helo: unknown = session.hostNameAppearsAs;
  return typeof helo === 'string' && helo ? helo : null;
}
