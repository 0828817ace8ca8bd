import type { QueuedEnvelope, RecipientRef } from '../../core/envelope.js';
import type { TenantId } from '../../directory/index.js';
import type { AttributionKind, Directionality, Verdict } from '../../policy/types.js';
import type { TraceEvent } from '../../trace/events.js';

// Times are epoch milliseconds. Who may move a recipient from one state to another is written at the
// top of queue/states.ts; the adapters keep those rules (guarded updates), they do not make them.

export const recipientStates = ['queued', 'inflight', 'deferred', 'delivered', 'failed', 'held', 'expired'] as const;
export type RecipientState = (typeof recipientStates)[number];

/** `queued` for a recipient to deliver; `failed` for one refused at end of DATA (legacy rule set). */
export type AcceptedRecipientState = Extract<RecipientState, 'queued' | 'failed'>;
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

/**
 * One policy decision for the trace and the impact report (a row of `decisions`): a record of the
 * past, kept as it was decided. The tenant's id is the key the trace reads by; the name is the one it
 * had then. Neither changes when the tenant is renamed or removed.
 */
export interface DecisionRecord {
  at: number;
  sessionId: string;
  messageId: string | null;
  clientIp: string;
  tenantId: TenantId | null;
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
  /** The first name of the client certificate that counted (trusted and valid); null when none did. */
  certificateName: string | null;
  /** The header From's (P2) domain, lower case, once the headers were read; null before DATA or without one. */
  headerFromDomain: string | null;
  /** The engine's remedies for this decision, in order of preference (none when nothing needs fixing). */
  remedies: DecisionRemedy[];
  /** The decision's steps (and, where it helps, the recipient's explanation), as JSON. */
  steps: string;
}

/** A remedy as the policy engine words it (relay-policy.md §6): its rank 1–4 and the advice. */
export interface DecisionRemedy {
  rank: number;
  text: string;
}

/** A stored decision with its id (ids grow with every append). */
export interface StoredDecision extends DecisionRecord {
  id: number;
}

/** One group-commit round: many messages and decisions in one transaction, one fsync. */
export interface AcceptBatch {
  messages: AcceptedMessage[];
  decisions: DecisionRecord[];
  /** The trace of the round (connections, refusals, received and queued messages), in the same transaction. */
  events?: readonly TraceEvent[];
}

/** A message as the queue reads it back: the queued envelope, and the attribution a DSN inherits. */
export type QueuedMessage = QueuedEnvelope & Pick<AcceptedMessage, 'attribution' | 'directionality'>;

export interface QueuedRecipient extends RecipientRef {
  messageId: string;
  state: RecipientState;
  attempts: number;
  lastReply: string | null;
  lastAttemptAt: number | null;
  /** The host that gave the last reply, when it came from a remote host. */
  lastRemoteMta: string | null;
}

/** Recipients read together, with their message. */
export interface MessageWork<R extends QueuedRecipient = QueuedRecipient> {
  message: QueuedMessage;
  recipients: R[];
}

/**
 * A lease's fencing token: the recipient and the generation its claim gave it. Every claim of a
 * recipient gives it a new generation; what its holder later records or renews names the token, and
 * applies only while the recipient still carries it, so a holder that was presumed dead (paused past
 * its lease, cut off, or an earlier run of the same node id) never overwrites the claim that followed.
 */
export interface LeaseToken {
  id: number;
  generation: number;
}

/** A recipient as a claim leased it, with its lease's generation. */
export interface ClaimedRecipient extends QueuedRecipient {
  generation: number;
}

/** Recipients claimed together, with their message. */
export type ClaimedWork = MessageWork<ClaimedRecipient>;

/** What happened to one claimed recipient, under the lease (`generation`) it was claimed with. */
export interface RecipientOutcome extends LeaseToken {
  state: Extract<RecipientState, 'delivered' | 'deferred' | 'failed' | 'expired' | 'queued'>;
  reply: string | null;
  /** The remote host that gave `reply` (null: our own verdict). */
  remoteMta?: string | null;
  /** For deferred/queued: when to try next. */
  nextAttemptAt?: number;
  /** True when an SMTP attempt was made (throttling does not count). */
  attempted: boolean;
  dsnStatus?: 'owed' | 'suppressed' | null;
  /** The trace of this outcome (the attempt, then deferred/delivered/...): written only if the outcome applies. */
  events?: readonly TraceEvent[];
}

/** A message generated by the relay itself (a DSN), its body already committed in the body store. */
export interface GeneratedMessage {
  message: QueuedMessage;
  recipients: Array<{ address: string; domain: string }>;
}


/** The accept side: what the acceptor's group commit writes. */
export interface AcceptStore {
  /**
   * The messages with their recipients and the decisions, in one transaction: all or nothing. A
   * message whose tenant id the directory no longer has (the tenant was removed after the decision)
   * is stored with a null tenant id, as if it had been queued before the removal; it is never refused.
   */
  commit(batch: AcceptBatch): Promise<void>;
  /** The ids among these that name a stored message (the orphan-body sweep asks). */
  existingMessages(ids: readonly string[]): Promise<Set<string>>;
}

/**
 * The delivery side. A lease names its owner (the node id, stable across restarts) and runs out at
 * its `until`; several processes may claim from one queue, and never the same recipient while its
 * lease lives. A long pass renews its owner's leases; a node that starts again releases the ones
 * its previous run left, and those of a node that is gone run out. A PostgreSQL adapter claims
 * with FOR UPDATE SKIP LOCKED behind the same methods.
 */
export interface DeliveryQueue {
  /**
   * Leases due recipients (queued/deferred whose time has come, or inflight whose lease ran out),
   * each with a new generation: its fencing token.
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedWork[]>;
  /**
   * Applies the outcomes whose recipient this owner still holds under the outcome's generation;
   * returns how many applied. The others are refused and change nothing: their lease ran out and
   * was claimed again (by another node, or by a later run of this one), or was released.
   */
  record(owner: string, outcomes: readonly RecipientOutcome[], now: number): Promise<number>;
  /** Extends to `now + leaseMs` those of these leases this owner still holds, live, under their generation; returns how many. */
  renewLeases(owner: string, leases: readonly LeaseToken[], now: number, leaseMs: number): Promise<number>;
  /**
   * At start: this owner's in-flight recipients are due again at once; returns how many. It names no
   * token because it releases the previous run's leases, whose tokens died with it (one serve per
   * node id: app/data-dir-lock.ts); the claims that follow give them new generations, so a run that
   * was in fact only paused has every outcome refused.
   */
  releaseLeases(owner: string, now: number): Promise<number>;
  /** Messages with recipients whose failure DSN is owed. */
  owedDsns(limit: number): Promise<MessageWork[]>;
  /** Deferred recipients of messages received at or before `receivedBefore`, not yet told of the delay. */
  delayNoticesDue(receivedBefore: number, limit: number): Promise<MessageWork[]>;
  /** Queues a generated DSN and marks the recipients it reports on, in one transaction (with `events`, the trace of it). */
  enqueueDsn(
    dsn: GeneratedMessage | null, reportedOn: readonly number[], kind: 'failure' | 'delay', suppressed: readonly number[], events?: readonly TraceEvent[],
  ): Promise<void>;
  /** Ids of messages whose recipients are all final with no DSN owed: removed with their bodies by the caller. */
  completedMessages(limit: number): Promise<string[]>;
  /** Removes finished messages (and their recipients) in one transaction. */
  deleteMessages(ids: readonly string[]): Promise<void>;
}

/** The queue: one adapter serves acceptance and delivery. */
export interface QueueStore extends AcceptStore, DeliveryQueue {}

/** Which messages an operator means. Every field narrows; none: every message. */
export interface QueueFilter {
  ids?: readonly string[];
  /** Messages queued under this tenant id: the tenant's mail under every name it had. */
  tenantId?: TenantId;
  /** Messages with a recipient in this domain (canonical, lower case). */
  domain?: string;
  /** Messages with a recipient in this state. */
  state?: RecipientState;
  /** Messages received at or before this instant. */
  receivedBefore?: number;
}

/** A message as the operator sees it: everything stored of it, with all its recipients. */
export interface QueueEntry {
  /** What acceptance kept of the session; null for a message the relay made (a DSN). */
  message: QueuedMessage & {
    connector: string | null;
    clientIp: string | null;
    clientHelo: string | null;
    tls: string | null;
    subject: string | null;
    messageIdHeader: string | null;
  };
  recipients: Array<
    QueuedRecipient & {
      nextAttemptAt: number;
      /** `sent` once the failure DSN is queued. */
      dsnStatus: 'owed' | 'suppressed' | 'sent' | null;
      /** The sender was told that delivery is delayed. */
      delayNoticeSent: boolean;
      /** For an in-flight recipient: the node delivering it and until when its lease runs. */
      lease: { owner: string; until: number } | null;
    }
  >;
}

/** A guarded change of recipients' state: only those still in one of `from` move. */
export interface RecipientTransition {
  ids: readonly number[];
  from: readonly RecipientState[];
  to: RecipientState;
  nextAttemptAt?: number;
  /** Recorded as the last reply, as our own verdict (no remote host). */
  reply?: string;
  dsnStatus?: 'owed' | 'suppressed';
  /** The trace of the change, by recipient id: a recipient's events are written only if it moved. */
  events?: ReadonlyMap<number, readonly TraceEvent[]>;
}

/** The operator's side of the queue (`relaygate queue ...`, later the admin API); the rules are in queue/admin.ts. */
export interface QueueAdminStore {
  /** Matching messages in queue-id (arrival) order, those after `after`, at most `limit`. */
  select(filter: QueueFilter, page: { after?: string; limit: number }): Promise<QueueEntry[]>;
  /** Applies the transition in one transaction; returns how many recipients moved. */
  transition(change: RecipientTransition, now: number): Promise<number>;
  /**
   * Removes these messages with their recipients in one transaction; returns how many there were.
   * `events` by message id: written only for a message that was there to remove.
   */
  deleteMessages(ids: readonly string[], events?: ReadonlyMap<string, readonly TraceEvent[]>): Promise<number>;
}

export interface DecisionFilter {
  sessionId?: string;
  messageId?: string;
  /** The tenant's decisions under every name it had. */
  tenantId?: TenantId;
  /** Only decisions with a smaller id (paging back through the log). */
  before?: number;
  /** At most this many (default 100). */
  limit?: number;
}

/** Which decisions a scan reads: every field narrows. */
export interface DecisionScanFilter {
  /** The tenant's decisions under every name it had. */
  tenantId?: TenantId;
  /** Decided at or after this instant (epoch ms). */
  since?: number;
  /** Decided before this instant (epoch ms). */
  until?: number;
  /** Only decisions whose verdict under the 2023-11 rule is one of these. */
  currentVerdicts?: readonly string[];
  /** Only decisions whose verdict under the legacy rule is one of these. */
  legacyVerdicts?: readonly string[];
  /** Rows per page read from the store (default 1000): what a scan holds at once. */
  pageSize?: number;
}

/** A decision as reports read it: the typed columns, without the steps (the trace's, and the bulk of a row). */
export type ScannedDecision = Omit<StoredDecision, 'steps'>;

/** The decision log: appended with each acceptance (`AcceptStore.commit`) or on its own; read newest first. */
export interface DecisionStore {
  append(decisions: readonly DecisionRecord[]): Promise<void>;
  list(filter?: DecisionFilter): Promise<StoredDecision[]>;
  /**
   * Every matching decision, oldest id first, read in keyset pages of `pageSize` rows: memory holds
   * one page whatever the log's size. A scan sees the decisions that existed when it started; ones
   * appended meanwhile are left for the next scan.
   */
  scan(filter?: DecisionScanFilter): AsyncIterable<ScannedDecision[]>;
  /** How many decisions a scan with this filter would read now (for progress). */
  count(filter?: DecisionScanFilter): Promise<number>;
}
