/**
 * The trace events an SMTP session writes: its connection (once, with its first recorded event),
 * its refusals (with the policy engine's decision, as the engine made it), and the message it
 * queued with its recipients. Built here from what the session knows; they go to the store with
 * the decisions (refusals, rate-limited alike) or in the message's accept commit.
 */
import type { X509Certificate } from 'node:crypto';
import { formatReply, type SmtpReply } from '../core/reply.js';
import type { AcceptedMessage } from '../store/ports.js';
import type { RecipientDecision, TransactionDecision } from '../policy/types.js';
import { dnsAltNames } from '../tls/certificate-facts.js';
import type {
  ConnectedEvent, PresentedCertificateRecord, QueuedEvent, ReceivedEvent, RefusalStage, RefusedEvent, SrsReturnedEvent, TraceContext, TraceEvent,
  TraceTransactionDecision,
} from '../trace/events.js';
import { emptyContext } from '../trace/events.js';
import type { ConnectionContext, Transaction, TransactionRecipient } from './connection-context.js';
import { owner as decisionOwner } from './decision-log.js';

/** The client certificate as the trace keeps it. */
export function certificateRecord(cert: X509Certificate, trusted: boolean, untrustedReason: string | null): PresentedCertificateRecord {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    sans: dnsAltNames(cert),
    issuer: cert.issuer.replace(/\n/g, ', '),
    fingerprint: cert.fingerprint256,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    trusted,
    untrustedReason: trusted ? null : (untrustedReason ?? 'certificate chain not verified'),
  };
}

/** What every event of this session (and transaction) shares. */
export function sessionContext(ctx: ConnectionContext, at: number, tx: Pick<Transaction, 'number' | 'mailFrom'> | null, decision: TransactionDecision | null): TraceContext {
  return {
    ...emptyContext(at),
    tenantId: decision?.tenantId ?? null,
    tenant: decision?.tenant ?? null,
    connector: decision?.connector ?? null,
    ruleSet: decision?.ruleSet ?? null,
    sessionId: ctx.id,
    transaction: tx?.number ?? null,
    clientIp: ctx.ip,
    certName: ctx.certificate?.names[0] ?? null,
    sender: tx?.mailFrom ?? null,
  };
}

/**
 * The session's `connected` event while none is written yet (else nothing): it goes with the
 * session's first recorded event, attributed as that event's transaction was. The caller marks
 * `ctx.trace.connected` once it was handed on.
 */
export function connectedEvents(ctx: ConnectionContext, helo: string | null, decision: TransactionDecision | null, at: number): ConnectedEvent[] {
  if (ctx.trace.connected) return [];
  return [
    {
      ...sessionContext(ctx, at, null, decision),
      kind: 'connected',
      listener: ctx.listener.name,
      peerIp: ctx.peerIp,
      viaProxy: ctx.ip !== ctx.peerIp,
      helo,
      tls: ctx.tls ? { version: ctx.tls.protocol, cipher: ctx.tls.cipher } : null,
      certificate: ctx.tls?.certificateRecord ?? null,
    },
  ];
}

function traceDecision(d: TransactionDecision): TraceTransactionDecision {
  return {
    tenant: d.tenant, tenantId: d.tenantId, connector: d.connector, attribution: d.attribution, ruleSet: d.ruleSet, certificate: d.certificate,
    tiedTenants: d.tiedTenants, steps: d.steps, outcome: d.outcome, warnings: d.warnings, remedies: d.remedies,
  };
}

/**
 * The engine's detail for a refusal: the recipient's explanation and the chart step that failed,
 * in the chart's own words (e.g. "mail.contoso.com is not an accepted domain of contoso: add it as
 * an accepted domain."). What the client's generic reply does not say.
 */
export function refusalDetail(d: TransactionDecision, r: RecipientDecision | null): string {
  const failed = d.steps.filter((s) => s.answer === 'no').map((s) => `${s.id}: ${s.detail}`);
  return [r?.explanation ?? null, ...failed].filter((x): x is string => x !== null && x !== '').join(' ');
}

export interface RefusalFacts {
  ctx: ConnectionContext;
  tx: Pick<Transaction, 'number' | 'mailFrom'>;
  at: number;
  stage: RefusalStage;
  decision: TransactionDecision;
  /** Null for a refusal at MAIL FROM. */
  recipient: RecipientDecision | null;
  reply: SmtpReply;
  /** The queue id, when the message was queued for its other recipients. */
  queueId?: string | null;
  messageIdHeader?: string | null;
  /** Overrides the engine's detail (a tenant limit's reason). */
  detail?: string;
  /** Overrides the rule (for a refusal no rule of the engine made). */
  reason?: string;
}

export function refusedEvent(f: RefusalFacts): RefusedEvent {
  const owner = f.recipient ? decisionOwner(f.decision, f.recipient) : { tenantId: f.decision.tenantId, tenant: f.decision.tenant, connector: f.decision.connector };
  return {
    ...sessionContext(f.ctx, f.at, f.tx, f.decision),
    ...owner,
    queueId: f.queueId ?? null,
    messageIdHeader: f.messageIdHeader ?? null,
    recipient: f.recipient?.address ?? null,
    ruleSet: f.recipient?.ruleSet ?? f.decision.ruleSet,
    status: 'Refused',
    reason: f.reason ?? f.recipient?.rule ?? f.decision.mailFromRule ?? null,
    kind: 'refused',
    stage: f.stage,
    reply: formatReply(f.reply),
    detail: f.detail ?? refusalDetail(f.decision, f.recipient),
    decision: traceDecision(f.decision),
    recipientDecision: f.recipient,
    suppressedBefore: 0,
  };
}

/** The message's `received` event, a `queued` event per recipient, and `srs-returned` for a bounce returned through an SRS address. */
export function acceptedEvents(ctx: ConnectionContext, tx: Transaction, m: AcceptedMessage, accepted: readonly TransactionRecipient[], refusedAtData: number): TraceEvent[] {
  const first = accepted[0]!;
  const base: TraceContext = {
    ...sessionContext(ctx, m.receivedAt, tx, first.transaction),
    tenantId: m.tenantId,
    tenant: m.tenant,
    connector: m.connector,
    ruleSet: first.decision.ruleSet,
    queueId: m.id,
    sender: m.mailFrom,
    messageIdHeader: m.messageIdHeader,
  };
  const received: ReceivedEvent = {
    ...base,
    status: 'Pending',
    kind: 'received',
    size: m.size,
    subject: m.subject,
    headerFrom: m.headerFrom,
    recipients: accepted.length,
    refusedAtData,
    directionality: m.directionality,
    attribution: m.attribution,
  };
  const events: TraceEvent[] = [received];
  for (const r of accepted) {
    const d = r.decision;
    const recipientContext: TraceContext = { ...base, ...decisionOwner(r.transaction, d), recipient: r.address, ruleSet: d.ruleSet };
    const queued: QueuedEvent = {
      ...recipientContext,
      status: 'Pending',
      reason: d.rule,
      kind: 'queued',
      verdict: d.verdict === 'pending' ? 'rejected' : d.verdict,
      rule: d.rule,
      directionality: d.directionality,
      explanation: d.explanation,
      currentVerdict: d.currentVerdict,
      legacyVerdict: d.legacyVerdict,
    };
    events.push(queued);
    if (r.srsReturn) {
      const returned: SrsReturnedEvent = { ...recipientContext, status: 'Expanded', reason: 'srs-return', kind: 'srs-returned', srsAddress: d.address };
      events.push(returned);
    }
  }
  return events;
}
