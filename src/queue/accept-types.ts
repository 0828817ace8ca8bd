/**
 * What the SMTP front end hands to the queue when it accepts a message: the envelope, the
 * per-recipient outcome and the decision log. Times are epoch milliseconds (the queue schema's).
 */
import type { QueuedEnvelope, RecipientRef } from '../core/envelope.js';
import type { AttributionKind, Directionality, Verdict } from '../policy/types.js';
import { RelaygateError } from '../core/errors.js';

/** `queued` for a recipient to deliver; `failed` for one refused at end of DATA (legacy rule set). */
export type AcceptedRecipientState = 'queued' | 'failed';
/** `owed`: a failure DSN must be sent; `suppressed`: null sender or NOTIFY without FAILURE. */
export type AcceptedDsnStatus = 'owed' | 'suppressed' | null;

export interface AcceptedRecipient extends Omit<RecipientRef, 'id' | 'relayed'> {
  state: AcceptedRecipientState;
  lastReply: string | null;
  dsnStatus: AcceptedDsnStatus;
  /** The policy's final verdict for this recipient: delivery rewrites P1 with SRS only for `relay`. */
  verdict: Verdict;
}

/** The queued envelope of a message the front end accepted (kind `mail`), with what the trace keeps. */
export interface AcceptedMessage extends Omit<QueuedEnvelope, 'kind' | 'outsideRecipients'> {
  connector: string | null;
  attribution: AttributionKind;
  directionality: Directionality;
  clientIp: string;
  clientHelo: string | null;
  /** e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`; null for a cleartext session. */
  tls: string | null;
  subject: string | null;
  messageIdHeader: string | null;
  recipients: AcceptedRecipient[];
}

/** One policy decision for the trace and the impact report (a row of `decisions`). */
export interface DecisionRecord {
  at: number;
  sessionId: string;
  messageId: string | null;
  clientIp: string;
  tenant: string | null;
  connector: string | null;
  attribution: AttributionKind;
  mailFrom: string | null;
  recipient: string | null;
  verdict: string;
  reply: string;
  ruleSet: string;
  currentVerdict: string;
  legacyVerdict: string;
  /** The decision's steps (and, where it helps, the recipient's explanation), as JSON. */
  steps: string;
}

/** One group-commit round: many messages and decisions in one transaction, one fsync. */
export interface AcceptBatch {
  messages: AcceptedMessage[];
  decisions: DecisionRecord[];
}

/** The storage port the acceptor commits through. Async so a PostgreSQL adapter fits too. */
export interface AcceptStore {
  commit(batch: AcceptBatch): Promise<void>;
  /** The ids among these that name a stored message (the orphan-body sweep asks). */
  existingMessages(ids: readonly string[]): Promise<Set<string>>;
}

/** The client gets `451 4.3.0` for this; nothing of the message remains. */
export class StorageError extends RelaygateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store-unavailable', message, options);
    this.name = 'StorageError';
  }
}
