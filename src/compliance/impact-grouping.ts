import { refusedOnlyByRuleChange } from '../policy/rule-set.js';
import { splitAddress } from '../core/address.js';
import type { RecipientVerdict, Remedy } from '../policy/types.js';

/**
 * The impact report's grouping, shared by the live report over recorded decisions
 * (impact-report.ts) and the Exchange Online message-trace report (message-trace.ts): traffic
 * counted by source (the certificate name that counted, else the IP), connector, P1 domain, P2
 * domain, the verdicts under both rule sets and the one applied, and the engine's remedy. Memory
 * grows with the number of distinct groups, never with the number of messages, and the groups are
 * capped: what would open a group beyond the cap is counted, not kept.
 */
export interface ImpactObservation {
  sourceIp: string;
  /** The client certificate's name that counted (trusted, valid); the source is named by it when there is one. */
  certificateName: string | null;
  /** The envelope sender's domain, lower case; `<>` for the null sender (p1DomainOf). */
  p1Domain: string;
  /** The header From's domain; null when unknown (refused before DATA, or a message trace). */
  p2Domain: string | null;
  tenant: string | null;
  connector: string | null;
  attribution: string;
  verdictNow: RecipientVerdict;
  verdictBefore: RecipientVerdict;
  /** The verdict the relay applied under the tenant's rule set; null where nothing was applied (a message trace). */
  verdictApplied: RecipientVerdict | null;
  remedies: readonly Remedy[];
  /** Epoch milliseconds. */
  at: number;
}

/** How the rule change touches traffic: it passes only by the legacy rule, or it is refused now and passed before. */
export type ImpactKind = 'legacy-only' | 'newly-refused';

/** One group: an observation's key fields with counts and the time span it was seen in. */
export interface ImpactGroup extends Omit<ImpactObservation, 'remedies' | 'at'> {
  impact: ImpactKind | null;
  /** What the source is known by: the certificate name, else the IP. */
  source: string;
  sourceKind: 'certificate' | 'ip';
  /** The source's addresses in the order first seen, at most MAX_LISTED_IPS (sourceIp is the first). */
  sourceIps: string[];
  /** More addresses were seen than are listed. */
  moreSourceIps: boolean;
  remedies: Remedy[];
  /** Recipient decisions (one per recipient of a message). */
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

export const MAX_LISTED_IPS = 5;
export const DEFAULT_MAX_GROUPS = 100_000;

export function isRefused(v: RecipientVerdict): boolean {
  return v === 'rejected';
}

/**
 * The impact of the 2023-11 rule on one decision: none unless it refuses what the legacy rule passed
 * (or would pass with an accepted From:); of those, what the relay still passed (the tenant runs the
 * legacy rule set) passes only because of the legacy rule.
 */
export function impactOf(o: Pick<ImpactObservation, 'verdictNow' | 'verdictBefore' | 'verdictApplied'>): ImpactKind | null {
  if (!refusedOnlyByRuleChange(o.verdictNow, o.verdictBefore)) return null;
  return o.verdictApplied !== null && !isRefused(o.verdictApplied) ? 'legacy-only' : 'newly-refused';
}

/** P1's domain as the report shows it: lower case, `<>` for the null sender, `(none)` for a malformed one. */
export function p1DomainOf(mailFrom: string | null): string {
  if (mailFrom === null) return '(none)';
  if (mailFrom === '' || mailFrom === '<>') return '<>';
  const parts = splitAddress(mailFrom);
  return parts ? parts.domain.replace(/>$/, '').toLowerCase() : mailFrom.toLowerCase();
}

interface OpenGroup extends Omit<ImpactGroup, 'firstSeen' | 'lastSeen'> {
  firstAt: number;
  lastAt: number;
}

export class ImpactGrouping {
  private readonly groups = new Map<string, OpenGroup>();
  /** Remedy lists repeat (memoised decisions, parsed rows share them): their key is computed once per list. */
  private readonly remedyKeys = new WeakMap<readonly Remedy[], string>();
  /** Observations not counted in any group because the cap was reached. */
  ungrouped = 0;

  constructor(private readonly maxGroups = DEFAULT_MAX_GROUPS) {}

  add(o: ImpactObservation): void {
    let remedyKey = this.remedyKeys.get(o.remedies);
    if (remedyKey === undefined) {
      remedyKey = o.remedies.map((r) => `${r.rank}:${r.text}`).join('\n');
      this.remedyKeys.set(o.remedies, remedyKey);
    }
    const source = o.certificateName ?? o.sourceIp;
    const key =
      `${o.certificateName === null ? 'ip' : 'cert'}\u0000${source}\u0000${o.p1Domain}\u0000${o.p2Domain ?? ''}\u0000${o.tenant ?? ''}\u0000` +
      `${o.connector ?? ''}\u0000${o.attribution}\u0000${o.verdictNow}\u0000${o.verdictBefore}\u0000${o.verdictApplied ?? ''}\u0000${remedyKey}`;
    const g = this.groups.get(key);
    if (g) {
      g.messages++;
      if (o.at < g.firstAt) g.firstAt = o.at;
      if (o.at > g.lastAt) g.lastAt = o.at;
      if (!g.sourceIps.includes(o.sourceIp)) {
        if (g.sourceIps.length < MAX_LISTED_IPS) g.sourceIps.push(o.sourceIp);
        else g.moreSourceIps = true;
      }
      return;
    }
    if (this.groups.size >= this.maxGroups) {
      this.ungrouped++;
      return;
    }
    this.groups.set(key, {
      impact: impactOf(o),
      source,
      sourceKind: o.certificateName === null ? 'ip' : 'certificate',
      sourceIp: o.sourceIp,
      sourceIps: [o.sourceIp],
      moreSourceIps: false,
      certificateName: o.certificateName,
      p1Domain: o.p1Domain,
      p2Domain: o.p2Domain,
      tenant: o.tenant,
      connector: o.connector,
      attribution: o.attribution,
      verdictNow: o.verdictNow,
      verdictBefore: o.verdictBefore,
      verdictApplied: o.verdictApplied,
      remedies: o.remedies.map((r) => ({ rank: r.rank, text: r.text })),
      messages: 1,
      firstAt: o.at,
      lastAt: o.at,
    });
  }

  get size(): number {
    return this.groups.size;
  }

  /** Refused-now groups first, then by message count (descending), then by source address, P1 and P2 domain. */
  sorted(): ImpactGroup[] {
    return [...this.groups.values()]
      .sort(
        (a, b) =>
          Number(isRefused(b.verdictNow)) - Number(isRefused(a.verdictNow)) ||
          b.messages - a.messages ||
          a.sourceIp.localeCompare(b.sourceIp) ||
          a.p1Domain.localeCompare(b.p1Domain) ||
          a.source.localeCompare(b.source) ||
          (a.p2Domain ?? '').localeCompare(b.p2Domain ?? ''),
      )
      .map(({ firstAt, lastAt, ...g }) => ({ ...g, firstSeen: new Date(firstAt).toISOString(), lastSeen: new Date(lastAt).toISOString() }));
  }
}
