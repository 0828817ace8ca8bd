/**
 * Store ports: what the rest of relaygate needs from storage, free of any engine's details. The
 * SQLite adapter (sqlite/) implements them now; a PostgreSQL adapter implements the same ports and
 * runs the same contract tests.
 */
import type { Readable, Writable } from 'node:stream';
import type { QueuedEnvelope, RecipientRef } from '../core/envelope.js';
import type {
  AcceptedDomainInput,
  ConnectorInput,
  Directory,
  DirectoryChange,
  StoredDirectory,
  TenantId,
  TenantInput,
} from '../directory/index.js';
import type { AttributionKind, Directionality, Verdict } from '../policy/types.js';

// ---- Directory -------------------------------------------------------------------------------

export type TenantPatch = Partial<Omit<TenantInput, 'name' | 'id' | 'acceptedDomains' | 'inboundConnectors'>>;
export type ConnectorPatch = Partial<Omit<ConnectorInput, 'name'>>;

export interface ReplaceOptions {
  /** Compute and return the changes without writing anything. */
  dryRun?: boolean;
}

/**
 * The tenant directory. Every write validates the whole resulting directory (the rules of
 * directory/validate.ts) and, on any error, throws (DirectoryValidationError, DirectoryEditError)
 * and changes nothing. Every write that changes something bumps the revision in the same
 * transaction, so readers can rebuild their policy snapshot only when it moved.
 *
 * Every stored tenant has an id (a ULID) that no edit changes: a tenant written without one keeps
 * the id of the stored tenant of the same name (in any case), or gets a new one. Per-tenant settings
 * elsewhere in the store refer to the id and go when the tenant goes; its queued messages stay, with
 * a null tenant id from then on (accepted mail is still delivered, without the tenant's settings).
 */
export interface DirectoryStore {
  load(): Promise<StoredDirectory>;
  /** A number that grows with every change; 0 for a directory never written. */
  revision(): Promise<number>;
  /** Makes the store match `dir` in one transaction; returns what changed (empty: nothing). */
  replace(dir: Directory, options?: ReplaceOptions): Promise<DirectoryChange[]>;
  addTenant(tenant: TenantInput): Promise<DirectoryChange[]>;
  updateTenant(name: string, patch: TenantPatch): Promise<DirectoryChange[]>;
  removeTenant(name: string): Promise<DirectoryChange[]>;
  addDomain(tenant: string, domain: AcceptedDomainInput): Promise<DirectoryChange[]>;
  /** Removes the domain from whichever tenant has it. */
  removeDomain(domain: string): Promise<DirectoryChange[]>;
  addConnector(tenant: string, connector: ConnectorInput): Promise<DirectoryChange[]>;
  updateConnector(tenant: string, name: string, patch: ConnectorPatch): Promise<DirectoryChange[]>;
  removeConnector(tenant: string, name: string): Promise<DirectoryChange[]>;
}

// ---- The queue: records -----------------------------------------------------------------------
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
  /** The decision's steps (and, where it helps, the recipient's explanation), as JSON. */
  steps: string;
}

/** A stored decision with its id (ids grow with every append). */
export interface StoredDecision extends DecisionRecord {
  id: number;
}

/** One group-commit round: many messages and decisions in one transaction, one fsync. */
export interface AcceptBatch {
  messages: AcceptedMessage[];
  decisions: DecisionRecord[];
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

/** Recipients claimed together, with their message. */
export interface MessageWork {
  message: QueuedMessage;
  recipients: QueuedRecipient[];
}

/** What happened to one claimed recipient. */
export interface RecipientOutcome {
  id: number;
  state: Extract<RecipientState, 'delivered' | 'deferred' | 'failed' | 'expired' | 'queued'>;
  reply: string | null;
  /** The remote host that gave `reply` (null: our own verdict). */
  remoteMta?: string | null;
  /** For deferred/queued: when to try next. */
  nextAttemptAt?: number;
  /** True when an SMTP attempt was made (throttling does not count). */
  attempted: boolean;
  dsnStatus?: 'owed' | 'suppressed' | null;
}

/** A message generated by the relay itself (a DSN), its body already committed in the body store. */
export interface GeneratedMessage {
  message: QueuedMessage;
  recipients: Array<{ address: string; domain: string }>;
}

// ---- The queue: ports ------------------------------------------------------------------------

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
  /** Leases due recipients (queued/deferred whose time has come, or inflight whose lease ran out). */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<MessageWork[]>;
  /** Applies outcomes of recipients this owner holds; returns how many applied (others lost their lease). */
  record(owner: string, outcomes: readonly RecipientOutcome[], now: number): Promise<number>;
  /** Extends every live lease this owner holds to `now + leaseMs`; returns how many. */
  renewLeases(owner: string, now: number, leaseMs: number): Promise<number>;
  /** This owner's in-flight recipients are due again at once (its previous run is gone); returns how many. */
  releaseLeases(owner: string, now: number): Promise<number>;
  /** Messages with recipients whose failure DSN is owed. */
  owedDsns(limit: number): Promise<MessageWork[]>;
  /** Deferred recipients of messages received at or before `receivedBefore`, not yet told of the delay. */
  delayNoticesDue(receivedBefore: number, limit: number): Promise<MessageWork[]>;
  /** Queues a generated DSN and marks the recipients it reports on, in one transaction. */
  enqueueDsn(dsn: GeneratedMessage | null, reportedOn: readonly number[], kind: 'failure' | 'delay', suppressed: readonly number[]): Promise<void>;
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
}

/** The operator's side of the queue (`relaygate queue ...`, later the admin API); the rules are in queue/admin.ts. */
export interface QueueAdminStore {
  /** Matching messages in queue-id (arrival) order, those after `after`, at most `limit`. */
  select(filter: QueueFilter, page: { after?: string; limit: number }): Promise<QueueEntry[]>;
  /** Applies the transition in one transaction; returns how many recipients moved. */
  transition(change: RecipientTransition, now: number): Promise<number>;
  /** Removes these messages with their recipients in one transaction; returns how many there were. */
  deleteMessages(ids: readonly string[]): Promise<number>;
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

/** The decision log: appended with each acceptance (`AcceptStore.commit`) or on its own; read newest first. */
export interface DecisionStore {
  append(decisions: readonly DecisionRecord[]): Promise<void>;
  list(filter?: DecisionFilter): Promise<StoredDecision[]>;
}

// ---- Message bodies --------------------------------------------------------------------------

/**
 * A body being written. The acceptor streams the message into `writable()`, then `sync()` makes
 * the content durable and `commit()` makes the body findable after a crash; only then are the rows
 * that refer to it committed. Whatever fails on the way, `discard()` leaves nothing behind.
 */
export interface BodyWriter {
  /** Bytes written so far through `writable()`. */
  readonly bytes: number;
  /** The stream the body is written into; ending it makes nothing durable yet. */
  writable(): Writable;
  /** The content is on stable storage. Call once the writable has finished. */
  sync(): Promise<void>;
  /**
   * The body survives a crash and `open(id)` finds it. Call after `sync()`, before committing the
   * rows that refer to it. Concurrent commits may share one flush (group commit).
   */
  commit(): Promise<void>;
  /** Removes what was written. Never throws: it runs on error paths. */
  discard(): Promise<void>;
}

/**
 * Message bodies keyed by queue id, written once and read many times (delivery, DSNs, `queue show`).
 * The SQLite deployment keeps them as files under `<dataDir>/spool` (store/filesystem/).
 */
export interface BodyStore {
  /** A new body under `id`; refuses an id that already has one (never overwrites). */
  create(id: string): Promise<BodyWriter>;
  /** The body as a stream, or null when there is none. */
  open(id: string): Promise<Readable | null>;
  /** Removes these bodies; ids without one are ignored. */
  delete(ids: readonly string[]): Promise<void>;
  /** Every id that has a body, committed or still being written (for the orphan sweep). */
  list(): AsyncIterable<string>;
}

// ---- SRS addresses this relay minted ---------------------------------------------------------

/** A rewritten envelope sender delivery used for a message relayed to outside recipients. */
export interface MintedSrsAddress {
  /** The SRS address as sent; the store compares it without regard to case. */
  address: string;
  messageId: string;
  /** How many outside (relayed) recipients the message has: its returns are bounded by it. */
  outsideRecipients: number;
  /** Epoch milliseconds. */
  at: number;
}

/** What the store knew of an SRS address when a bounce to it asked for one return. */
export interface SrsReturnReservation {
  /** A message was relayed with exactly this sender, minted at or after `since`. */
  recorded: boolean;
  /** Returns that were still allowed before this call (0: the allowance is used up). */
  returnsLeft: number;
  /** The message this return was counted against; null when none was counted. */
  messageId: string | null;
}

/**
 * The SRS addresses delivery minted, each with its message: a bounce to an SRS address is honoured
 * only if it is recorded here, and a bounded number of times. Rows older than the SRS age are pruned.
 */
export interface SrsMintedStore {
  /** Records (or refreshes) that `address` was the envelope sender of the message. Idempotent. */
  record(minted: MintedSrsAddress): Promise<void>;
  /**
   * Counts one return to `address` against a message minted with it at or after `since` that has
   * fewer than `returnsPerRecipient` × its outside recipients returns: atomic, so two callers never
   * both take the last one. Nothing is counted when none is left.
   */
  reserveReturn(address: string, since: number, returnsPerRecipient: number): Promise<SrsReturnReservation>;
  /** Gives back a return counted by `reserveReturn` whose bounce was not accepted after all. */
  releaseReturn(messageId: string): Promise<void>;
  /** Forgets addresses minted before `before` (and messages with none left); returns how many addresses. */
  prune(before: number): Promise<number>;
}

// ---- Tenant settings -------------------------------------------------------------------------
// Delivery's and the front end's per-tenant settings, keyed by the tenant's id (never its name):
// a rename keeps them, removing the tenant removes them.

export type DkimAlgorithm = 'rsa' | 'ed25519';

/** What signing needs of a key. */
export interface DkimKey {
  /** The signing domain (d=). */
  domain: string;
  /** The selector (s=), lower case. */
  selector: string;
  algorithm: DkimAlgorithm;
  /** PEM (PKCS #8). */
  privateKey: string;
  /** The p= value of the TXT record (base64). */
  publicKey: string;
}

export interface StoredDkimKey extends DkimKey {
  tenantId: TenantId;
  active: boolean;
  /** Epoch milliseconds; of a domain's active keys the newest signs. */
  createdAt: number;
}

/** A key as it may be shown: without the private key. */
export type DkimKeyInfo = Omit<StoredDkimKey, 'privateKey'>;

export type TlsMode = 'none' | 'opportunistic' | 'required' | 'verify';

export interface RouteAuth {
  user: string;
  pass: string;
}

export interface ClientCertificate {
  cert: string; // PEM
  key: string; // PEM
}

/** A smart host for recipient domains: exact `d`, `*.d` (every subdomain of d) or `*`. */
export interface Route {
  domains: readonly string[];
  host: string;
  port: number;
  tls: TlsMode;
  auth?: RouteAuth | null;
  clientCert?: ClientCertificate | null;
}

/** A tenant route as stored, with the id `relaygate route remove` takes. */
export interface StoredRoute {
  id: number;
  tenantId: TenantId;
  route: Route;
}

export interface TenantSrsSetting {
  enabled: boolean;
  /** null: the server's default rewrite domain. */
  rewriteDomain: string | null;
}

/** SRS is on, with the server's rewrite domain, for a tenant that never changed it. */
export const defaultSrsSetting: TenantSrsSetting = Object.freeze({ enabled: true, rewriteDomain: null });

/** Every tenant setting at one revision: what a snapshot is built from. */
export interface TenantSettingsState {
  revision: number;
  dkimKeys: StoredDkimKey[];
  /** In id order (routing prefers the older of two equally good routes). */
  routes: StoredRoute[];
  srs: Array<{ tenantId: TenantId; setting: TenantSrsSetting }>;
  /** Tenants with a daily recipient limit (null: set to unlimited). */
  dailyLimits: Array<{ tenantId: TenantId; dailyRecipients: number | null }>;
  /** Tenants that chose whether relayed mail keeps our X-Relaygate-* fields (off when never set). */
  relayedHeaders: Array<{ tenantId: TenantId; keep: boolean }>;
}

/**
 * Per-tenant settings: DKIM keys, outbound routes, SRS settings, daily recipient limits and whether
 * relayed mail keeps our X-Relaygate-* fields. Writes
 * for a tenant id the directory does not have are refused. Every change (a tenant's removal
 * included) makes `revision()` grow, so readers rebuild their snapshot only when it moved; the hot
 * path reads the snapshot (store/tenant-settings-snapshot.ts), never this port.
 */
export interface TenantSettingsStore {
  /** A number that grows with every change; 0 when nothing was ever set. */
  revision(): Promise<number>;
  /** Everything, read in one transaction with the revision it is at. */
  read(): Promise<TenantSettingsState>;

  /** Adds the key, or replaces the tenant's key of the same domain and selector; it is active. */
  putDkimKey(key: StoredDkimKey): Promise<void>;
  /** Keys (of one tenant, or of all), by domain and selector, without private keys. */
  dkimKeys(tenantId?: TenantId): Promise<DkimKeyInfo[]>;

  /** Stores the route and returns it with its new id. */
  addRoute(tenantId: TenantId, route: Route): Promise<StoredRoute>;
  /** Routes (of one tenant, or of all), in id order. */
  routes(tenantId?: TenantId): Promise<StoredRoute[]>;
  /** Removes the tenant's route `id` and returns it; null when the tenant has no such route. */
  removeRoute(tenantId: TenantId, id: number): Promise<StoredRoute | null>;

  /** The tenant's SRS setting (defaultSrsSetting when never set). */
  srsSetting(tenantId: TenantId): Promise<TenantSrsSetting>;
  setSrsSetting(tenantId: TenantId, setting: TenantSrsSetting): Promise<void>;

  /** The tenant's daily recipient limit; null = unlimited. */
  dailyLimit(tenantId: TenantId): Promise<number | null>;
  setDailyLimit(tenantId: TenantId, limit: number | null): Promise<void>;

  /** Whether mail the tenant relays to outside recipients keeps our X-Relaygate-* fields; false when never set. */
  keepsRelayedHeaders(tenantId: TenantId): Promise<boolean>;
  setRelayedHeaders(tenantId: TenantId, keep: boolean): Promise<void>;
}

// ---- Quota counters --------------------------------------------------------------------------

/** A UTC day, `YYYY-MM-DD`: daily quotas reset at 00:00 UTC. */
export type UtcDay = string;

export interface CounterResult {
  /** Whether the `n` were counted (false: they would have passed the limit; nothing was counted). */
  ok: boolean;
  /** The count after the call. */
  count: number;
}

/**
 * Recipients counted per tenant and UTC day. `add` checks and counts in one atomic step, so any
 * number of processes sharing the store enforce one limit between them.
 */
export interface QuotaCounters {
  /** Adds `n` unless the count would pass `limit` (null: no limit, always counted). */
  add(tenantId: TenantId, day: UtcDay, n: number, limit: number | null): Promise<CounterResult>;
  count(tenantId: TenantId, day: UtcDay): Promise<number>;
}

// ---- Server secrets --------------------------------------------------------------------------

/** Secrets of the installation (the SRS HMAC key), made once and kept. */
export interface ServerSecrets {
  /** The secret called `name`, made (32 random bytes) the first time it is asked for. */
  secret(name: string, now: number): Promise<string>;
}
