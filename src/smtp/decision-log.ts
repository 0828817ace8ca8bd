import type { DecisionRecord } from '../store/ports.js';
import type { RecipientDecision, TransactionDecision } from '../policy/types.js';
import { formatReply, type SmtpReply } from '../core/reply.js';
import { domainOf } from '../core/address.js';
import type { TraceEvent } from '../trace/events.js';

export interface DecisionSink {
  /** `events`: the trace of the same refusals (and the connection's, the first time), written with them. */
  recordDecisions(decisions: readonly DecisionRecord[], events?: readonly TraceEvent[]): void;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  suppressed: number;
}

/**
 * Writes every decision to the `decisions` table. Accepts are always written; refusals are
 * rate-limited per source IP (a token bucket) so a flood of refused RCPTs cannot fill the disk.
 * What the bucket drops is counted, and the count rides in the next refusal written for that IP.
 * A refusal's trace events go with its decision, or are dropped with it: the two never disagree.
 */
export class DecisionLog {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly sink: DecisionSink,
    private readonly burst = 100,
    private readonly perSecond = 1,
    private readonly maxTrackedSources = 10_000,
  ) {}

  /**
   * Records a recipient's decision (`messageId` when the message was queued) and the trace events
   * that go with it; false when the rate limit dropped a refusal.
   */
  recipient(base: DecisionBase, tx: TransactionDecision, r: RecipientDecision, messageId: string | null, events: readonly TraceEvent[] = []): boolean {
    return this.write(recipientRecord(base, tx, r, messageId), r.verdict === 'rejected', events);
  }

  /** Records a refusal at MAIL FROM (no recipient yet), with its trace events; false when the rate limit dropped it. */
  mailFrom(base: DecisionBase, tx: TransactionDecision, reply: SmtpReply, events: readonly TraceEvent[] = []): boolean {
    return this.write(
      {
        at: base.at,
        sessionId: base.sessionId,
        messageId: null,
        clientIp: base.clientIp,
        tenantId: tx.tenantId,
        tenant: tx.tenant,
        connector: tx.connector,
        attribution: tx.attribution,
        mailFrom: base.mailFrom,
        recipient: null,
        verdict: 'rejected',
        reply: formatReply(reply),
        ruleSet: tx.ruleSet,
        currentVerdict: 'rejected',
        legacyVerdict: 'rejected',
        ...reportColumns(base, tx),
        steps: JSON.stringify({ steps: tx.steps, certificate: tx.certificate }),
      },
      true,
      events,
    );
  }

  /** A refusal no policy decision records (a message too big, a loop): its trace alone, under the same rate limit. */
  refusal(clientIp: string, at: number, events: readonly TraceEvent[]): boolean {
    const bucket = this.take(clientIp, at);
    if (!bucket) return false;
    this.sink.recordDecisions([], withSuppressed(events, bucket));
    return true;
  }

  private write(record: DecisionRecord, refusal: boolean, events: readonly TraceEvent[]): boolean {
    if (refusal) {
      const bucket = this.take(record.clientIp, record.at);
      if (!bucket) return false;
      if (bucket.suppressed > 0) {
        record = { ...record, steps: JSON.stringify({ ...(JSON.parse(record.steps) as object), suppressedBefore: bucket.suppressed }) };
        events = withSuppressed(events, bucket);
      }
    }
    this.sink.recordDecisions([record], events);
    return true;
  }

  /** The bucket when a token was available, else null (and the drop is counted). */
  private take(ip: string, now: number): Bucket | null {
    let b = this.buckets.get(ip);
    if (!b) {
      if (this.buckets.size >= this.maxTrackedSources) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: this.burst, updatedAt: now, suppressed: 0 };
      this.buckets.set(ip, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.updatedAt) / 1000) * this.perSecond);
    b.updatedAt = now;
    if (b.tokens < 1) {
      b.suppressed++;
      return null;
    }
    b.tokens -= 1;
    return b;
  }
}

/** The refusals among the events say how many before them the rate limit dropped; the count is then spent. */
function withSuppressed(events: readonly TraceEvent[], bucket: Bucket): readonly TraceEvent[] {
  if (bucket.suppressed === 0) return events;
  const suppressedBefore = bucket.suppressed;
  bucket.suppressed = 0;
  return events.map((e) => (e.kind === 'refused' ? { ...e, suppressedBefore } : e));
}

/** The `decisions` row for one recipient's decision. */
export function recipientRecord(base: DecisionBase, tx: TransactionDecision, r: RecipientDecision, messageId: string | null): DecisionRecord {
  return {
    at: base.at,
    sessionId: base.sessionId,
    messageId,
    clientIp: base.clientIp,
    ...owner(tx, r),
    attribution: r.attribution,
    mailFrom: base.mailFrom,
    recipient: r.address,
    verdict: r.verdict,
    reply: formatReply(r.reply),
    ruleSet: r.ruleSet,
    currentVerdict: r.currentVerdict,
    legacyVerdict: r.legacyVerdict,
    ...reportColumns(base, tx),
    steps: JSON.stringify({ explanation: r.explanation, rule: r.rule, steps: tx.steps, certificate: tx.certificate }),
  };
}

/**
 * Whose decision it is: the recipient's tenant and connector as the engine gave them; a refusal
 * belongs to no tenant in the engine's answer, and its row names the tenant and connector the
 * connection was attributed to (none when nobody's).
 */
export function owner(tx: TransactionDecision, r: RecipientDecision): Pick<DecisionRecord, 'tenantId' | 'tenant' | 'connector'> {
  if (r.verdict === 'rejected' && r.tenant === null) return { tenantId: tx.tenantId, tenant: tx.tenant, connector: tx.connector };
  return { tenantId: r.tenantId, tenant: r.tenant, connector: r.connector };
}

/** What the impact report groups by: the certificate name that counted, P2's domain, the engine's remedies. */
function reportColumns(base: DecisionBase, tx: TransactionDecision): Pick<DecisionRecord, 'certificateName' | 'headerFromDomain' | 'remedies'> {
  return {
    certificateName: tx.certificate.names[0] ?? null,
    headerFromDomain: base.headerFrom ? domainOf(base.headerFrom) : null,
    remedies: tx.remedies.map((r) => ({ rank: r.rank, text: r.text })),
  };
}

export interface DecisionBase {
  at: number;
  sessionId: string;
  clientIp: string;
  mailFrom: string | null;
  /** The header From (P2), once the headers were read. */
  headerFrom?: string | null;
}
