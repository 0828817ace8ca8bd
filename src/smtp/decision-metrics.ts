/**
 * What the metrics learn of one evaluation in a session: each final decision (a MAIL FROM refusal,
 * and every recipient not left `pending` for the end of DATA), and the expiry of a client
 * certificate that attributed the connection to a connector.
 */
import type { SmtpMetrics } from '../core/metrics-recorder.js';
import type { EvaluationInput, TransactionDecision } from '../policy/index.js';

export function observeDecision(metrics: Pick<SmtpMetrics, 'decision' | 'connectorCertificate'>, input: EvaluationInput, decision: TransactionDecision): void {
  if (decision.mailFromReply) {
    metrics.decision({ verdict: 'rejected', rule: 'mail-from', ruleSet: decision.ruleSet, currentVerdict: 'rejected', legacyVerdict: 'rejected', tenant: decision.tenant });
  }
  for (const r of decision.recipients) {
    if (r.verdict === 'pending') continue;
    metrics.decision({ verdict: r.verdict, rule: r.rule, ruleSet: r.ruleSet, currentVerdict: r.currentVerdict, legacyVerdict: r.legacyVerdict, tenant: r.tenant });
  }
  const notAfter = input.connection.certificate?.notAfter;
  if (decision.attribution === 'cert' && decision.tenant !== null && decision.connector !== null && notAfter !== undefined) {
    const at = new Date(notAfter);
    if (!Number.isNaN(at.getTime())) metrics.connectorCertificate(decision.tenant, decision.connector, at);
  }
}
