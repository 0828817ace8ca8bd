/**
 * serve's background retention of the trace: every `intervalMs`, batches of at most `batchSize`
 * events past their kind's retention are removed (PostgreSQL also makes the coming days'
 * partitions and drops whole days), yielding to the event loop between batches so that sessions
 * and delivery go on; a pass stops after `maxBatches` and the next one goes on from there.
 */
import type { Clock } from '../core/clock.js';
import type { TraceRetention, TraceStore } from '../store/ports.js';
import type { LogFn } from '../observability/logger.js';

export interface TracePrunerDeps {
  trace: TraceStore;
  retention: TraceRetention;
  clock: Clock;
  intervalMs: number;
  batchSize: number;
  /** Batches one pass runs at most (10,000). */
  maxBatches?: number;
  log?: LogFn;
}

export class TracePruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(private readonly deps: TracePrunerDeps) {}

  /** Prunes once now (which also makes the partitions ahead), then every interval. */
  start(): void {
    this.stopped = false;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** One pass (shared with a pass in progress); resolves to how many events it removed. */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<number> {
    const d = this.deps;
    let removed = 0;
    try {
      for (let batch = 0; batch < (d.maxBatches ?? 10_000) && !this.stopped; batch++) {
        const r = await d.trace.prune({ now: d.clock.now().getTime(), retention: d.retention, batchSize: d.batchSize });
        removed += r.removed;
        if (!r.more) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      d.log?.('warn', `trace retention: pruning failed, trying again at the next pass: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (removed > 0) d.log?.('info', `trace retention: removed ${removed} events past their retention`, { removed });
    return removed;
  }
}
