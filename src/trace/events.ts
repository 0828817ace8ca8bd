/**
 * The message trace: what happened to every connection, transaction, message and recipient, as
 * typed events. Each is appended in the same transaction as the state change it describes (the
 * accept commit, a delivery outcome, an operator's action), so the trace never tells a story the
 * queue did not live, and it outlives the message's removal from the queue.
 *
 * Every event carries the fields an Exchange Online admin searches by (TraceContext); what only one
 * kind knows is in that kind's own fields. A refusal carries the policy engine's decision in the
 * engine's own types: the trace explains, it never re-derives a rule.
 */
import type { TenantId, RuleSet } from '../directory/model.js';
import type {
  AttributionKind, CertificateJudgement, ChartOutcome, DecisionRule, Directionality, Finding, RecipientDecision, RecipientVerdict, Remedy, Step, Verdict,
} from '../policy/types.js';

/** Exchange Online's words for a message's status, plus Refused (never accepted) and Deferred. */
export const traceStatuses = ['Delivered', 'Failed', 'Pending', 'Expanded', 'Refused', 'Deferred'] as const;
export type TraceStatus = (typeof traceStatuses)[number];

export const traceEventKinds = [
  'connected', 'refused', 'received', 'queued', 'attempt', 'deferred', 'delivered', 'failed', 'expired', 'dsn-queued',
  'held', 'released', 'operator-bounced', 'deleted', 'srs-returned',
] as const;
export type TraceEventKind = (typeof traceEventKinds)[number];

/** What every event carries, so that search never has to join (times are epoch milliseconds). */
export interface TraceContext {
  at: number;
  /** The tenant's stable id and the name it had then (a rename or removal changes neither). */
  tenantId: TenantId | null;
  tenant: string | null;
  /** The SMTP session the event belongs to (null for what delivery and operators do). */
  sessionId: string | null;
  /** The mail transaction within the session (1 for the first MAIL FROM); null outside one. */
  transaction: number | null;
  /** The queue id, once the message has one. */
  queueId: string | null;
  /** The source address the policy judged (the PROXY source behind a trusted proxy). */
  clientIp: string | null;
  connector: string | null;
  /** The first name of the client certificate that counted (trusted, valid), if any. */
  certName: string | null;
  /** MAIL FROM ('' for the null sender). */
  sender: string | null;
  recipient: string | null;
  /** The Message-ID header field, as given (angle brackets included). */
  messageIdHeader: string | null;
  /** Null only for an event that says nothing of a message (`connected`). */
  status: TraceStatus | null;
  /** Why, in one token: the decision rule (`relay`, `hygiene`, ...), a delivery outcome's enhanced status code (`5.1.1`), or `operator`. */
  reason: string | null;
  ruleSet: RuleSet | null;
}

/** The client certificate as presented in the handshake, whether or not it counted. */
export interface PresentedCertificateRecord {
  subject: string;
  /** DNS subjectAltNames. */
  sans: string[];
  issuer: string;
  /** SHA-256 fingerprint, colon-separated hex as OpenSSL prints it. */
  fingerprint: string;
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  /** The chain verified against the server's trusted CAs. */
  trusted: boolean;
  /** Why it did not (OpenSSL's code, e.g. `SELF_SIGNED_CERT_IN_CHAIN`), when it did not. */
  untrustedReason: string | null;
}

export interface ConnectedEvent extends TraceContext {
  kind: 'connected';
  listener: string;
  /** The TCP peer: the proxy's address when PROXY was used, else the client's. */
  peerIp: string;
  /** True when clientIp came from the PROXY header of a trusted proxy. */
  viaProxy: boolean;
  helo: string | null;
  tls: { version: string; cipher: string } | null;
  certificate: PresentedCertificateRecord | null;
}

/** The part of the engine's TransactionDecision a refusal keeps (its recipients are in `recipient`). */
export type TraceTransactionDecision = {
  tenant: string | null;
  tenantId: TenantId | null;
  connector: string | null;
  attribution: AttributionKind;
  ruleSet: RuleSet;
  certificate: CertificateJudgement;
  tiedTenants: string[];
  steps: Step[];
  outcome: ChartOutcome;
  warnings: Finding[];
  remedies: Remedy[];
};

export type RefusalStage = 'mail' | 'rcpt' | 'data';

export interface RefusedEvent extends TraceContext {
  kind: 'refused';
  status: 'Refused';
  stage: RefusalStage;
  /** The reply the client got, as sent (`550 5.7.64 TenantAttribution; Relay Access Denied`). */
  reply: string;
  /** The detail the client was not told: the explanation in the chart's words, or the limit that refused. */
  detail: string;
  /** The engine's decision: the transaction's attribution and chart walk, and the recipient's verdicts. */
  decision: TraceTransactionDecision;
  /** The recipient's decision (both verdicts, conditions, explanation); null for a refusal at MAIL FROM. */
  recipientDecision: RecipientDecision | null;
  /** Refusals from this source the rate limit left unrecorded before this one. */
  suppressedBefore: number;
}

export interface ReceivedEvent extends TraceContext {
  kind: 'received';
  status: 'Pending';
  size: number;
  subject: string | null;
  headerFrom: string | null;
  /** Recipients queued for delivery, and those refused at end of DATA. */
  recipients: number;
  refusedAtData: number;
  directionality: Directionality;
  attribution: AttributionKind;
}

export interface QueuedEvent extends TraceContext {
  kind: 'queued';
  status: 'Pending';
  verdict: Verdict;
  rule: DecisionRule;
  directionality: Directionality;
  /** The engine's explanation of why this recipient was accepted. */
  explanation: string;
  /** The verdicts under the 2023-11 and the legacy rule set (`rejected` + `relay`: passes only under the legacy rule). */
  currentVerdict?: RecipientVerdict;
  legacyVerdict?: RecipientVerdict;
}

export type AttemptResult = 'delivered' | 'deferred' | 'failed';

export interface AttemptEvent extends TraceContext {
  kind: 'attempt';
  status: 'Delivered' | 'Deferred' | 'Failed';
  result: AttemptResult;
  /** The destination the resolver chose (a route's host or the recipient domain). */
  nextHop: string;
  /** The host that answered last (MX or route host), and its address, when a connection was made. */
  mxHost: string | null;
  mxIp: string | null;
  /** e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`; null when the session was cleartext or never opened. */
  tls: string | null;
  /** The reply recorded for the recipient (the remote's when `remote`). */
  reply: string;
  remote: boolean;
  durationMs: number;
}

export interface DeferredEvent extends TraceContext {
  kind: 'deferred';
  status: 'Deferred';
  reply: string;
  nextAttemptAt: number;
  attempts: number;
}

export interface DeliveredEvent extends TraceContext {
  kind: 'delivered';
  status: 'Delivered';
  reply: string;
  remoteMta: string | null;
  attempts: number;
}

export interface FailedEvent extends TraceContext {
  kind: 'failed';
  status: 'Failed';
  reply: string;
  remoteMta: string | null;
  attempts: number;
  /** Whether the sender is owed a DSN (`suppressed`: null sender or NOTIFY without FAILURE). */
  dsn: 'owed' | 'suppressed' | null;
}

export interface ExpiredEvent extends TraceContext {
  kind: 'expired';
  status: 'Failed';
  reply: string;
  attempts: number;
  dsn: 'owed' | 'suppressed' | null;
}

export interface DsnQueuedEvent extends TraceContext {
  kind: 'dsn-queued';
  status: 'Failed' | 'Deferred';
  dsnKind: 'failure' | 'delay';
  /** The DSN's own queue id (its delivery is traced under it). */
  dsnQueueId: string;
  /** Who the DSN goes to: the original sender. */
  notified: string;
}

/** Who did an operator action: `cli:<os user>`, `api:<token id>`. */
export type Actor = string;

export interface HeldEvent extends TraceContext {
  kind: 'held';
  status: 'Pending';
  by: Actor;
}

export interface ReleasedEvent extends TraceContext {
  kind: 'released';
  status: 'Pending';
  by: Actor;
}

export interface OperatorBouncedEvent extends TraceContext {
  kind: 'operator-bounced';
  status: 'Failed';
  by: Actor;
  reply: string;
  dsn: 'owed' | 'suppressed';
}

export interface DeletedEvent extends TraceContext {
  kind: 'deleted';
  status: 'Failed';
  by: Actor;
  /** The recipients that had not reached a final state (not told: a deletion sends no DSN). */
  unfinished: number;
}

export interface SrsReturnedEvent extends TraceContext {
  kind: 'srs-returned';
  status: 'Expanded';
  /** The SRS address the bounce came to; `recipient` is the original sender it was returned to. */
  srsAddress: string;
}

export type TraceEvent =
  | ConnectedEvent | RefusedEvent | ReceivedEvent | QueuedEvent | AttemptEvent | DeferredEvent | DeliveredEvent | FailedEvent
  | ExpiredEvent | DsnQueuedEvent | HeldEvent | ReleasedEvent | OperatorBouncedEvent | DeletedEvent | SrsReturnedEvent;

export type TraceEventOf<K extends TraceEventKind> = Extract<TraceEvent, { kind: K }>;

/** The context fields of an event, without its kind's own. */
export const traceContextKeys = [
  'at', 'tenantId', 'tenant', 'sessionId', 'transaction', 'queueId', 'clientIp', 'connector', 'certName', 'sender', 'recipient',
  'messageIdHeader', 'status', 'reason', 'ruleSet',
] as const satisfies ReadonlyArray<keyof TraceContext>;

/** A context with nothing known yet but the instant: callers fill in what they know. */
export function emptyContext(at: number): TraceContext {
  return {
    at, tenantId: null, tenant: null, sessionId: null, transaction: null, queueId: null, clientIp: null, connector: null, certName: null,
    sender: null, recipient: null, messageIdHeader: null, status: null, reason: null, ruleSet: null,
  };
}

export function isTraceEventKind(s: string): s is TraceEventKind {
  return (traceEventKinds as readonly string[]).includes(s);
}

export function isTraceStatus(s: string): s is TraceStatus {
  return (traceStatuses as readonly string[]).includes(s);
}
