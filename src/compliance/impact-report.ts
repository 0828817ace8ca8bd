import type { Clock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';
import { parseInstant, parseSince } from '../core/time-bound.js';
import { historyTenant } from '../directory/find-tenant.js';
import type { RecipientVerdict } from '../policy/types.js';
import type { DecisionScanFilter, DecisionStore, DirectoryStore, ScannedDecision } from '../store/ports.js';
import { ImpactGrouping, impactOf, isRefused, p1DomainOf, type ImpactGroup, type ImpactKind, type ImpactObservation } from './impact-grouping.js';

/**
 * The live impact report (`relaygate report impact`, the admin API's impact report): the decisions
 * the relay recorded, where both rule sets were evaluated on every message, grouped with the
 * message-trace report's grouping (impact-grouping.ts). Only the decisions the rule change touches
 * are grouped: what passes today only because of the legacy rule, and what is refused now and passed
 * (or would have passed with an accepted From:) before. Remedies are the engine's, as recorded.
 *
 * Memory: one page of decisions from the store's keyset scan, and the groups (capped).
 */
export interface ImpactReportInput {
  /** A tenant's name (any case) or its id; absent: every tenant. */
  tenant?: string;
  /** How far back: a duration (`30d`, `12h`, `90m`, `2w`) or an ISO 8601 date or instant. Default 30d. */
  since?: string;
  /** Up to this instant (exclusive), ISO 8601; absent: now. */
  until?: string;
}

export interface ImpactReportOptions {
  /** After each page: decisions read so far, and how many the scan covers (those the rule change can touch). */
  onProgress?: (read: number, total: number) => void;
  /** Decisions read from the store at once (the scan's page). */
  pageSize?: number;
  /** At most this many groups are kept; decisions that would open more are counted as ungrouped. */
  maxGroups?: number;
}

export interface ImpactQuery {
  /** The tenant asked for, with the name it has now; null for every tenant. */
  tenant: { id: string; name: string | null } | null;
  since: string;
  until: string;
}

export interface ImpactTotals {
  /** Decisions recorded in the range (for the tenant asked for). */
  decisions: number;
  /** Passed only because the tenant still runs the legacy rule set. */
  legacyOnly: number;
  /** Refused under the 2023-11 rule, passed (or pending on the From: header) under the legacy one. */
  newlyRefused: number;
  groups: number;
  /** Touched decisions counted in no group: the group cap was reached. */
  ungrouped: number;
}

/** What a report streams: the groups, most urgent first, then the totals. */
export type ImpactReportItem = { kind: 'group'; group: ImpactGroup } | { kind: 'totals'; totals: ImpactTotals };

export interface ImpactReport {
  query: ImpactQuery;
  items: AsyncIterable<ImpactReportItem>;
}

const DEFAULT_SINCE = '30d';
const ALL_VERDICTS: RecipientVerdict[] = ['relay', 'internal', 'inbound', 'rejected', 'pending'];
const VERDICTS = new Set<string>(ALL_VERDICTS);
const REFUSED = ALL_VERDICTS.filter(isRefused);
const NOT_REFUSED = ALL_VERDICTS.filter((v) => !isRefused(v));

export class ImpactReportService {
  constructor(
    private readonly ports: { decisions: DecisionStore; directory: DirectoryStore },
    private readonly clock: Clock,
  ) {}

  /** Checks the input (an invalid or unknown one throws before anything is read) and returns the report to stream. */
  async report(input: ImpactReportInput, options: ImpactReportOptions = {}): Promise<ImpactReport> {
    const now = this.clock.now().getTime();
    const until = input.until === undefined ? now : parseInstant(input.until, { name: 'until', field: 'until' });
    const since = parseSince(input.since ?? DEFAULT_SINCE, now, { name: 'since', field: 'since' });
    if (since >= until) {
      throw new RelaygateError('invalid', `the range is empty: since ${input.since ?? DEFAULT_SINCE} (${new Date(since).toISOString()}) is not before until ${new Date(until).toISOString()}`, {
        details: { field: 'since', since: input.since ?? DEFAULT_SINCE },
      });
    }
    const tenant = input.tenant === undefined ? null : await this.tenant(input.tenant);
    const filter: DecisionScanFilter = {
      since,
      until,
      ...(tenant ? { tenantId: tenant.id } : {}),
      ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    };
    return {
      query: { tenant, since: new Date(since).toISOString(), until: new Date(until).toISOString() },
      items: this.items(filter, options),
    };
  }

  private async tenant(given: string): Promise<{ id: string; name: string | null }> {
    return historyTenant(await this.ports.directory.load(), given);
  }

  private async *items(filter: DecisionScanFilter, options: ImpactReportOptions): AsyncGenerator<ImpactReportItem> {
    // The store hands over only what the rule change can touch: refused now, not refused before.
    const touched: DecisionScanFilter = { ...filter, currentVerdicts: REFUSED, legacyVerdicts: NOT_REFUSED };
    const totals: ImpactTotals = { decisions: await this.ports.decisions.count(filter), legacyOnly: 0, newlyRefused: 0, groups: 0, ungrouped: 0 };
    const total = options.onProgress ? await this.ports.decisions.count(touched) : 0;
    const grouping = new ImpactGrouping(options.maxGroups);
    let read = 0;
    for await (const page of this.ports.decisions.scan(touched)) {
      for (const d of page) {
        const observation = observe(d);
        if (observation === null) continue;
        if (observation.impact === 'legacy-only') totals.legacyOnly++;
        else totals.newlyRefused++;
        grouping.add(observation);
      }
      read += page.length;
      options.onProgress?.(read, Math.max(total, read));
    }
    totals.groups = grouping.size;
    totals.ungrouped = grouping.ungrouped;
    for (const group of grouping.sorted()) yield { kind: 'group', group };
    yield { kind: 'totals', totals };
  }
}

/** A recorded decision as the grouping observes it, when the rule change touches it; null otherwise. */
function observe(d: ScannedDecision): (ImpactObservation & { impact: ImpactKind }) | null {
  const { currentVerdict: now, legacyVerdict: before, verdict: applied } = d;
  if (!isVerdict(now) || !isVerdict(before) || !isVerdict(applied)) return null;
  const impact = impactOf({ verdictNow: now, verdictBefore: before, verdictApplied: applied });
  if (impact === null) return null;
  return {
    impact,
    verdictNow: now,
    verdictBefore: before,
    verdictApplied: applied,
    sourceIp: d.clientIp,
    certificateName: d.certificateName,
    p1Domain: p1DomainOf(d.mailFrom),
    p2Domain: d.headerFromDomain,
    tenant: d.tenant,
    connector: d.connector,
    attribution: d.attribution,
    remedies: d.remedies,
    at: d.at,
  };
}

function isVerdict(v: string): v is RecipientVerdict {
  return VERDICTS.has(v);
}
