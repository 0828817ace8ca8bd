/**
 * The policy engine's input and output. The engine is pure: these facts in, a decision with its
 * explanation out. Nothing here touches the network, the disk, the clock or randomness.
 */
import type { SmtpReply } from '../core/reply.js';
import type { RuleSet, TenantId } from '../directory/model.js';

/** What the TLS layer learned of the client certificate. Trust is judged outside (it needs crypto). */
export interface CertificateFacts {
  /** Subject CN plus every DNS subjectAltName, as presented (the engine lower-cases). */
  names: string[];
  /** The chain verified against the server's trusted CA bundle. */
  trusted: boolean;
  /** Why the chain did not verify (e.g. `SELF_SIGNED_CERT_IN_CHAIN`), when it did not. */
  untrustedReason?: string;
  /** Validity period (ISO 8601); the engine compares it with the evaluation instant. */
  notBefore?: string;
  notAfter?: string;
}

export interface ConnectionFacts {
  /** Source IP: the TCP peer, or the PROXY-protocol address from a trusted proxy. */
  ip: string;
  tls: boolean;
  certificate?: CertificateFacts | null;
}

export interface MessageFacts {
  /** MAIL FROM as given, without angle brackets or with them; `''` or `<>` is the null sender. */
  mailFrom: string;
  recipients: string[];
  /**
   * The header From (P2) address. `undefined`: not known yet (before DATA); `null`: the message has
   * no usable From. Only the legacy rule set reads it.
   */
  headerFrom?: string | null;
  /**
   * Recipients that are SRS addresses of this relay's rewrite domains, as the caller established
   * them (the HMAC and age need a secret and the clock, the record and the counts need the store):
   * recipient as given → what is known of it. Only a null-sender transaction (a bounce) returns
   * through them.
   */
  srsReturns?: Readonly<Record<string, SrsReturnFact>>;
}

/** What the caller knows of an SRS address a bounce is sent to (relay-policy.md §4, bounces to SRS addresses). */
export interface SrsReturnFact {
  /** The sender the address stands for when its HMAC and age verify; null when forged or expired. */
  original: string | null;
  /** This relay recorded relaying a message with exactly this rewritten sender, within the SRS age. */
  recorded: boolean;
  /** Returns still allowed for it, this one included, before this bounce (0: the allowance is used up). */
  returnsLeft: number;
  /** Bounces to SRS addresses accepted from this source address within the rate window, before this one. */
  recentFromSource: number;
}

/** Server settings some rules read (relaygate.yaml), passed in like any other fact. */
export interface PolicySettings {
  /**
   * `limits.allowAddressLiterals`: a recipient like `user@[192.0.2.1]` is judged by the relay rules.
   * Off (the default), it is refused by address hygiene.
   */
  allowAddressLiterals: boolean;
}

export interface EvaluationInput {
  connection: ConnectionFacts;
  message: MessageFacts;
  /** The instant the mail arrives: picks the rule set under `auto` and checks certificate validity. */
  at: Date;
  /** Omitted settings take their defaults (every one off). */
  settings?: Partial<PolicySettings>;
}

/**
 * Where the chart ends: OUT-C compliant for all mail (certificate name accepted); OUT-D compliant
 * via an accepted P1; OUT-E passed before 2023-11-01 only via P2, non-compliant now; OUT-F fails under
 * both rule sets; OUT-N no enabled OnPremises connector (not affected, cannot relay); OUT-I every
 * recipient is internal, relay conditions do not apply.
 */
export type ChartOutcome = 'OUT-C' | 'OUT-D' | 'OUT-E' | 'OUT-F' | 'OUT-N' | 'OUT-I';

export type Verdict = 'relay' | 'internal' | 'inbound' | 'rejected';
/** `pending`: legacy rule set, only condition 1c (P2) can still allow it; decide after the headers. */
export type RecipientVerdict = Verdict | 'pending';
export type AttributionKind = 'cert' | 'ip' | 'p1' | 'rcpt' | 'none';
export type Directionality = 'Originating' | 'Incoming';
export type StepAnswer = 'yes' | 'no' | 'skipped';

/** Which rule of relay-policy.md §4/§5 produced a recipient's reply. */
export type DecisionRule =
  | 'hygiene'
  | 'srs-return'
  | 'require-tls'
  | 'internal'
  | 'relay'
  | 'inbound'
  | 'partner-require-tls'
  | 'partner-restriction'
  | 'direct-send'
  | 'nobody';

/** One step of the workflow chart (relay-policy.md §7) or of attribution, with its evidence. */
export interface Step {
  id: string;
  question: string;
  answer: StepAnswer;
  detail: string;
}

export interface Finding {
  code: string;
  message: string;
  tenant?: string;
  connector?: string;
}

export interface Remedy {
  /** 1–4 in relay-policy.md §6's order of preference. */
  rank: number;
  text: string;
}

export interface RelayConditions {
  /** Condition 2: the connection matched one of T's enabled OnPremises connectors. */
  connector: boolean;
  /** 1a: a certificate name that matched the connector is accepted by T. */
  certificateNameAccepted: boolean;
  /** 1b: the P1 domain is accepted by T (never for a null P1). */
  envelopeSenderAccepted: boolean;
  /** 1c: the P2 domain is accepted by T; null while the header From is not known. */
  headerFromAccepted: boolean | null;
}

export interface RecipientDecision {
  /** The recipient as the engine judged it (domain canonical, as `mailFrom`): the one to forward. */
  address: string;
  /** Canonical domain of the recipient; null when the address was refused by hygiene. */
  domain: string | null;
  verdict: RecipientVerdict;
  /** The reply to give at RCPT time (250 for accepted and pending recipients). */
  reply: SmtpReply;
  rule: DecisionRule;
  /** The tenant the decision belongs to: T for internal/relay, U for inbound, null otherwise. */
  tenant: string | null;
  /** That tenant's id (what per-tenant data is keyed by); null also for a tenant the directory gave none. */
  tenantId: TenantId | null;
  connector: string | null;
  /** Inbound mail: the Partner connector of the recipient's tenant that applied to it (by sender domain, IP or certificate), if any. */
  partnerConnector: string | null;
  attribution: AttributionKind;
  ruleSet: RuleSet;
  currentVerdict: RecipientVerdict;
  legacyVerdict: RecipientVerdict;
  directionality: Directionality;
  conditions: RelayConditions | null;
  /** One sentence an admin can read: why this reply. */
  explanation: string;
}

export interface CertificateJudgement {
  presented: boolean;
  /** The names that count (trusted and valid), lower case; empty otherwise. */
  names: string[];
  /** Why a presented certificate gave no names (untrusted, expired, not yet valid). */
  reason: string | null;
}

export interface TransactionDecision {
  /** The tenant that owns the connection (connector attribution), if any. */
  tenant: string | null;
  /** That tenant's id; null also for a tenant the directory gave none. */
  tenantId: TenantId | null;
  connector: string | null;
  attribution: AttributionKind;
  /** The rule set in force for the attributed tenant at the instant (the default, `2023-11`, if none). */
  ruleSet: RuleSet;
  certificate: CertificateJudgement;
  /** A refusal at MAIL FROM (requireTls on the attributing connector), or null to go on. */
  mailFromReply: SmtpReply | null;
  /** The rule behind mailFromReply: address hygiene (a malformed MAIL FROM) or the connector's requireTls. */
  mailFromRule: Extract<DecisionRule, 'hygiene' | 'require-tls'> | null;
  /**
   * P1 as the engine judged it (domain canonical: A-label, lower case; source route dropped; `''`
   * for the null sender): the sender to forward. Null when MAIL FROM is malformed.
   */
  mailFrom: string | null;
  recipients: RecipientDecision[];
  /** Tenants that tied in attribution and could not be separated (relay-policy.md §3.3). */
  tiedTenants: string[];
  steps: Step[];
  /** Where the workflow chart ended (relay-policy.md §7): OUT-C, OUT-D, OUT-E, OUT-F, OUT-N, OUT-I. */
  outcome: ChartOutcome;
  warnings: Finding[];
  remedies: Remedy[];
}
