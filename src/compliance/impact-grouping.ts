import type { RecipientVerdict, Remedy } from '../policy/types.js';

/**
 * The impact report's grouping: traffic counted by (source IP, P1 domain, connector, verdict under
 * the 2023-11 rule, verdict before 2023-11-01, remedy). Memory grows with the number of distinct
 * groups, never with the number of messages, so it suits a million-row message trace.
 */
export interface ImpactObservation {
  sourceIp: string;
  /** The envelope sender's domain, lower case; `<>` for the null sender. */
  p1Domain: string;
  tenant: string | null;
  connector: string | null;
  attribution: string;
  verdictNow: RecipientVerdict;
  verdictBefore: RecipientVerdict;
  remedies: readonly Remedy[];
  at: Date;
}

/** One group: an observation's key fields with counts and the time span it was seen in. */
export interface ImpactGroup extends Omit<ImpactObservation, 'remedies' | 'at'> {
  remedies: Remedy[];
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

export function isRefused(v: RecipientVerdict): boolean {
  return v === 'rejected';
}

export class ImpactGrouping {
  private readonly groups = new Map<string, ImpactGroup>();
  /** Remedy lists repeat (memoised decisions share them): their key is computed once per list. */
  private readonly remedyKeys = new WeakMap<readonly Remedy[], string>();

  add(o: ImpactObservation): void {
    let remedyKey = this.remedyKeys.get(o.remedies);
    if (remedyKey === undefined) {
      remedyKey = o.remedies.map((r) => `${r.rank}:${r.text}`).join('\n');
      this.remedyKeys.set(o.remedies, remedyKey);
    }
    const key = [o.sourceIp, o.p1Domain, o.tenant ?? '', o.connector ?? '', o.attribution, o.verdictNow, o.verdictBefore, remedyKey].join('\u0000');
    const at = o.at.toISOString();
    const g = this.groups.get(key);
    if (g) {
      g.messages++;
      if (at < g.firstSeen) g.firstSeen = at;
      if (at > g.lastSeen) g.lastSeen = at;
      return;
    }
    this.groups.set(key, {
      sourceIp: o.sourceIp,
      p1Domain: o.p1Domain,
      tenant: o.tenant,
      connector: o.connector,
      attribution: o.attribution,
      verdictNow: o.verdictNow,
      verdictBefore: o.verdictBefore,
      remedies: o.remedies.map((r) => ({ rank: r.rank, text: r.text })),
      messages: 1,
      firstSeen: at,
      lastSeen: at,
    });
  }

  get size(): number {
    return this.groups.size;
  }

  /** Refused-now groups first, then by message count (descending), then by source and P1 domain. */
  sorted(): ImpactGroup[] {
    return [...this.groups.values()].sort(
      (a, b) =>
        Number(isRefused(b.verdictNow)) - Number(isRefused(a.verdictNow)) ||
        b.messages - a.messages ||
        a.sourceIp.localeCompare(b.sourceIp) ||
        a.p1Domain.localeCompare(b.p1Domain),
    );
  }
}
