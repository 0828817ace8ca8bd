import type { CertificateFacts, CertificateJudgement } from './types.js';

/**
 * Which certificate names count (relay-policy.md §2): only those of a certificate whose chain
 * verified and which is within its validity period at the instant of the decision.
 */
export function judgeCertificate(facts: CertificateFacts | null | undefined, at: Date): CertificateJudgement {
  if (!facts) return { presented: false, names: [], reason: null };
  if (!facts.trusted) {
    return { presented: true, names: [], reason: `not trusted: ${facts.untrustedReason ?? 'chain not verified'}` };
  }
  // A validity bound that cannot be read fails closed: the period cannot be shown to hold.
  for (const bound of [facts.notBefore, facts.notAfter]) {
    if (bound !== undefined && Number.isNaN(Date.parse(bound))) {
      return { presented: true, names: [], reason: `unreadable validity date ${JSON.stringify(bound)}` };
    }
  }
  if (facts.notBefore && at.getTime() < Date.parse(facts.notBefore)) {
    return { presented: true, names: [], reason: `not yet valid (valid from ${facts.notBefore})` };
  }
  if (facts.notAfter && at.getTime() > Date.parse(facts.notAfter)) {
    return { presented: true, names: [], reason: `expired (valid until ${facts.notAfter})` };
  }
  const names = [...new Set(facts.names.map((n) => n.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean))];
  return { presented: true, names, reason: names.length === 0 ? 'no CN or DNS subjectAltName' : null };
}
