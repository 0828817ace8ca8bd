/**
 * The one point where the session tells what became of a command or a message, for what watches
 * traffic per connector (connector health). Called synchronously; an observer only notes it in
 * memory: nothing on the accept path waits for it.
 */
import type { CertificateFacts, RecipientDecision, TransactionDecision } from '../policy/types.js';
import type { PresentedCertificate } from '../tls/certificate-facts.js';
import type { ConnectionContext } from './connection-context.js';

export interface TrafficObservation {
  /** Epoch milliseconds of the transaction. */
  at: number;
  /**
   * `accepted`: a message was queued; `refused`: a MAIL FROM, a recipient or the message was
   * refused; `abandoned`: a transaction with accepted recipients ended without DATA (RSET, QUIT, gone).
   */
  outcome: 'accepted' | 'refused' | 'abandoned';
  /** The source address the policy judged. */
  ip: string;
  /** The client certificate presented (with what the policy was told of it), or null. */
  certificate: { presented: PresentedCertificate; facts: CertificateFacts } | null;
  /** P1 as the engine judged it (`''`: the null sender); null when it was malformed. */
  mailFrom: string | null;
  /** The engine's decision for the connection (attribution: tenant, connector). */
  decision: TransactionDecision;
  /** The recipient decisions the outcome is about. */
  recipients: readonly RecipientDecision[];
}

export interface TrafficObserver {
  observe(observation: TrafficObservation): void;
}

/** The observation of `ctx` with its connection facts filled in. */
export function observation(
  ctx: ConnectionContext,
  at: number,
  outcome: TrafficObservation['outcome'],
  mailFrom: string | null,
  decision: TransactionDecision,
  recipients: readonly RecipientDecision[],
): TrafficObservation {
  const presented = ctx.tls?.clientCertificate ?? null;
  return {
    at,
    outcome,
    ip: ctx.ip,
    certificate: presented && ctx.certificate ? { presented, facts: ctx.certificate } : null,
    mailFrom,
    decision,
    recipients,
  };
}
