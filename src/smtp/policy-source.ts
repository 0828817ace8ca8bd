import type { BareLineEndingPolicy, Directory } from '../directory/model.js';
import { buildSnapshot, evaluate, type DirectorySnapshot, type EvaluationInput, type PolicySettings, type TransactionDecision } from '../policy/index.js';
import type { SmtpMetrics } from '../core/metrics-recorder.js';
import { observeDecision } from './decision-metrics.js';

/** What the session needs of the directory store (structurally the store's DirectoryStore port). */
export interface DirectorySource {
  load(): Promise<Directory>;
  revision(): Promise<number>;
}

/**
 * The policy snapshot the sessions evaluate against, rebuilt when the directory's revision
 * changes (the directory changes at run time, without a restart). The revision is asked at most
 * once per `checkEveryMs`, so a busy server does not query the store for every command.
 */
export class SnapshotCache {
  private current: { revision: number; snapshot: DirectorySnapshot } | null = null;
  private checkedAt = -Infinity;
  private inflight: Promise<DirectorySnapshot> | null = null;

  constructor(
    private readonly source: DirectorySource,
    private readonly checkEveryMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  snapshot(): Promise<DirectorySnapshot> {
    // While a check runs, its answer is the current one: the snapshot before it may be stale.
    if (this.inflight) return this.inflight;
    if (this.current && this.now() - this.checkedAt < this.checkEveryMs) return Promise.resolve(this.current.snapshot);
    this.inflight = this.refresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async refresh(): Promise<DirectorySnapshot> {
    const startedAt = this.now();
    const revision = await this.source.revision();
    if (!this.current || this.current.revision !== revision) this.current = { revision, snapshot: buildSnapshot(await this.source.load()) };
    // Counted from the start of the check: a change made while it ran is seen at the next one.
    this.checkedAt = startedAt;
    return this.current.snapshot;
  }
}

/** The policy as the SMTP session calls it: the engine on the current snapshot. */
export class SessionPolicy {
  constructor(
    private readonly cache: SnapshotCache,
    /** The server's settings the engine reads (relaygate.yaml), given with every evaluation. */
    private readonly settings: PolicySettings = { allowAddressLiterals: false },
    /** Told every final decision (docs/metrics.md, relaygate_policy_*). */
    private readonly metrics?: Pick<SmtpMetrics, 'decision'>,
  ) {}

  async evaluate(input: EvaluationInput): Promise<TransactionDecision> {
    const decision = evaluate(await this.cache.snapshot(), { ...input, settings: this.settings });
    if (this.metrics) observeDecision(this.metrics, decision);
    return decision;
  }

  /** Is the source in an enabled connector's IP range, in the current snapshot? */
  async matchesConnectorRange(ip: string): Promise<boolean> {
    return (await this.cache.snapshot()).matchesConnectorRange(ip);
  }

  /** How the connector that owns the connection wants bare CR/LF handled (default: reject). */
  async bareLineEndings(tenant: string | null, connector: string | null): Promise<BareLineEndingPolicy> {
    if (!tenant || !connector) return 'reject';
    const snapshot = await this.cache.snapshot();
    return snapshot.tenant(tenant)?.inboundConnectors.find((c) => c.name === connector)?.allowBareLineEndings ?? 'reject';
  }
}
