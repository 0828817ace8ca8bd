/**
 * What the metrics learn of one evaluation in a session: each final decision (a MAIL FROM refusal,
 * and every recipient not left `pending` for the end of DATA).
 */
import type { SmtpMetrics } from '../core/metrics-recorder.js';
import type { TransactionDecision } from '../policy/index.js';

export function observeDecision(metrics: Pick<SmtpMetrics, 'decision'>, decision: TransactionDecision): void {
  if (decision.mailFromReply) {
    metrics.decision({ verdict: 'rejected', rule: 'mail-from', ruleSet: decision.ruleSet, currentVerdict: 'rejected', legacyVerdict: 'rejected', tenant: decision.tenant });
  }
  for (const r of decision.recipients) {
    if (r.verdict === 'pending') continue;
    metrics.decision({ verdict: r.verdict, rule: r.rule, ruleSet: r.ruleSet, currentVerdict: r.currentVerdict, legacyVerdict: r.legacyVerdict, tenant: r.tenant });
  }
}
