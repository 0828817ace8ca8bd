/**
 * What the SMTP front end, the queue and delivery tell the metrics, as a port: they call these
 * methods where an outcome is known and never see Prometheus (observability/metrics.ts implements
 * it with prom-client; app/ wires it in). `noMetrics` is the recorder of a process without metrics.
 * Values are plain strings and numbers: no address and no IP ever reaches a recorder.
 */

/** `refused`: turned away before the session started (connection limits, a bad PROXY header). */
export type ConnectionOutcome = 'accepted' | 'refused';

/**
 * How a mail transaction ended: `accepted` (250 after DATA), `refused` (MAIL FROM refused, no
 * recipient accepted, or a 5xx after DATA, also one sent as the connection closes), `deferred` (a 4xx after DATA), `abandoned` (recipients
 * were accepted but no message was queued: RSET, a new MAIL FROM, QUIT, or the client left).
 */
export type TransactionOutcome = 'accepted' | 'refused' | 'deferred' | 'abandoned';

/** One final policy decision for one recipient (or a MAIL FROM refusal, rule `mail-from`). */
export interface ObservedDecision {
  verdict: string;
  rule: string;
  /** The rule set in force: `2023-11` or `legacy`. */
  ruleSet: string;
  currentVerdict: string;
  legacyVerdict: string;
  tenant: string | null;
}

export type DeliveryOutcome = 'delivered' | 'deferred' | 'failed' | 'expired';
/** `connection`: the host could not be talked to (refused, timed out, TLS broke); else the reply class. */
export type DeliveryClass = '2xx' | '4xx' | '5xx' | 'connection';

export interface ObservedDelivery {
  outcome: DeliveryOutcome;
  class: DeliveryClass;
  tenant: string | null;
  /** Accept to delivered, for a delivered recipient; null otherwise. */
  endToEndSeconds: number | null;
}

export interface SmtpMetrics {
  connection(listener: string, outcome: ConnectionOutcome): void;
  transaction(listener: string, outcome: TransactionOutcome): void;
  decision(decision: ObservedDecision): void;
}

export interface AcceptMetrics {
  /** From the end of DATA to the message being durable (the 250). */
  accepted(seconds: number): void;
}

export interface DeliveryMetrics {
  delivery(observed: ObservedDelivery): void;
  /** Outcomes this node could not record: its lease had run out and another claim took the recipients. */
  leasesLost(count: number): void;
}

export interface WebhookMetrics {
  /** Events in the webhook outbox not yet delivered (set by the webhook worker). */
  webhookBacklog(events: number): void;
}

export interface MetricsRecorder extends SmtpMetrics, AcceptMetrics, DeliveryMetrics, WebhookMetrics {}

const nothing = (): void => undefined;

export const noMetrics: MetricsRecorder = Object.freeze({
  connection: nothing,
  transaction: nothing,
  decision: nothing,
  accepted: nothing,
  delivery: nothing,
  leasesLost: nothing,
  webhookBacklog: nothing,
});
