/**
 * A generated message trace history, for the search tests and the search benchmark: messages of
 * three tenants over a month, each as the write points trace it (received, queued per recipient,
 * then delivered, failed, deferred or still pending), and one transaction in ten refused. The
 * search fields are varied by a seeded generator so that every filter selects a part; the kinds'
 * own fields are short (one shared decision), so that a big history is quick to write.
 */
import { emptyContext, type TraceContext, type TraceEvent, type TraceTransactionDecision } from '../../src/trace/events.js';
import { seededRandom } from './seeded-random.js';

export const HISTORY_TENANTS = ['01JH00000000000000000000A1', '01JH00000000000000000000B2', '01JH00000000000000000000C3'] as const;
export const HISTORY_T0 = Date.UTC(2026, 9, 1);
/** Messages arrive this far apart (unless told otherwise): 100,000 messages span 35 days. */
export const HISTORY_STEP_MS = 30_000;

const CONNECTORS = ['apps', 'printers', 'partners'];
const REFUSAL_REASONS = ['nobody', 'hygiene', 'require-tls'];

export const historyClientIp = (n: number): string => `198.51.100.${n}`;
export const historySender = (n: number): string => `app${n}@sender${n % 20}.example`;
export const historyRecipient = (n: number): string => `user${n}@dest${n % 50}.example`;
export const historyCertName = (n: number): string => `mail${n}.contoso.example`;

const DECISION: TraceTransactionDecision = {
  tenant: null, tenantId: null, connector: null, attribution: 'ip', ruleSet: '2023-11', certificate: { presented: false, names: [], reason: null },
  tiedTenants: [], steps: [], outcome: 'OUT-F', warnings: [], remedies: [],
};

function context(base: Partial<TraceContext>, over: Partial<TraceContext> & { at: number }): TraceContext {
  return { ...emptyContext(over.at), ...base, ...over };
}

/**
 * The events of messages [from, to), message by message. The `at` of a message's events advances
 * by a millisecond or stays (several events share an instant: the cursor's tie-break is tested).
 */
export function historyEvents(from: number, to: number, seed = 20261201, stepMs = HISTORY_STEP_MS): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let i = from; i < to; i++) {
    const r = seededRandom(seed + i);
    // Skewed as real traffic is: most of it one tenant's; the search tests ask for the small ones.
    const roll = r.int(0, 19);
    const tenantNo = roll < 14 ? 0 : roll < 19 ? 1 : 2;
    const base: Partial<TraceContext> = {
      tenantId: HISTORY_TENANTS[tenantNo]!,
      tenant: `tenant${tenantNo}`,
      sessionId: `s${i}`,
      transaction: 1,
      clientIp: historyClientIp(r.int(1, 50)),
      connector: `${CONNECTORS[tenantNo]}-${r.int(0, 1)}`,
      certName: r.int(0, 4) === 0 ? historyCertName(r.int(0, 9)) : null,
      sender: r.int(0, 19) === 0 ? '' : historySender(r.int(0, 199)),
      ruleSet: r.int(0, 19) === 0 ? 'legacy' : '2023-11',
      messageIdHeader: `<m${i}@host.example>`,
    };
    let at = HISTORY_T0 + i * stepMs;
    const tick = (): number => (r.int(0, 2) === 0 ? at : ++at);
    const recipients = Array.from({ length: r.int(0, 4) === 0 ? 2 : 1 }, () => historyRecipient(r.int(0, 999)));
    if (r.int(0, 9) === 0) {
      const reason = r.pick(REFUSAL_REASONS);
      for (const recipient of recipients) {
        out.push({
          ...context(base, { at: tick(), messageIdHeader: null, recipient, status: 'Refused', reason }), kind: 'refused', status: 'Refused', stage: 'rcpt',
          reply: '550 5.7.64 TenantAttribution; Relay Access Denied', detail: 'S5: not an accepted domain', decision: DECISION, recipientDecision: null, suppressedBefore: 0,
        });
      }
      continue;
    }
    const queueId = `q${i}`;
    out.push({
      ...context(base, { at: tick(), queueId, status: 'Pending' }), kind: 'received', status: 'Pending', size: 1000 + i, subject: `report ${i}`,
      headerFrom: base.sender || null, recipients: recipients.length, refusedAtData: 0, directionality: 'Originating', attribution: 'ip',
    });
    for (const recipient of recipients) {
      out.push({
        ...context(base, { at: tick(), queueId, recipient, status: 'Pending', reason: 'relay' }), kind: 'queued', status: 'Pending', verdict: 'relay',
        rule: 'relay', directionality: 'Originating', explanation: 'relayed',
      });
    }
    for (const recipient of recipients) {
      const delivery = { ...base, sessionId: null, transaction: null, queueId, recipient };
      const fate = r.int(0, 9);
      if (fate < 7) {
        out.push({ ...context(delivery, { at: tick(), status: 'Delivered' }), kind: 'delivered', status: 'Delivered', reply: '250 2.0.0 Ok', remoteMta: 'mx.example', attempts: 1 });
      } else if (fate === 7) {
        out.push({
          ...context(delivery, { at: tick(), status: 'Failed', reason: 'remote-5xx' }), kind: 'failed', status: 'Failed', reply: '550 5.1.1 no such user',
          remoteMta: 'mx.example', attempts: 1, dsn: 'owed',
        });
      } else if (fate === 8) {
        out.push({
          ...context(delivery, { at: tick(), status: 'Deferred', reason: 'remote-4xx' }), kind: 'deferred', status: 'Deferred', reply: '451 4.7.1 later',
          nextAttemptAt: at + 300_000, attempts: 1,
        });
      }
    }
  }
  return out;
}
