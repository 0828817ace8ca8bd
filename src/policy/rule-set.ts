import type { RuleSet, Tenant } from '../directory/model.js';

/** Exchange Online's rule change took effect for mail arriving on or after this instant. */
export const RULE_CHANGE_AT = new Date('2023-11-01T00:00:00Z');

/** The rule set in force for a tenant (or for mail attributed to none) at an instant. */
export function ruleSetInForce(tenant: Tenant | null, at: Date): RuleSet {
  const setting = tenant?.relayRuleSet ?? 'auto';
  if (setting !== 'auto') return setting;
  return at.getTime() >= RULE_CHANGE_AT.getTime() ? '2023-11' : 'legacy';
}

/**
 * True when the 2023-11 rules refuse what the legacy rules did not: the traffic the rule change
 * touches (the impact report, the legacy-only metric). A legacy verdict still waiting for the header
 * From counts as not refused: it passes once From is accepted.
 */
export function refusedOnlyByRuleChange(currentVerdict: string, legacyVerdict: string): boolean {
  return currentVerdict === 'rejected' && legacyVerdict !== 'rejected';
}
