/**
 * `serve`'s side of connector health: the warnings logged at start and then periodically (one
 * line each, at `warn`), and the history pruned as it goes.
 */
import type { LogFn } from '../observability/logger.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { ConnectorHealthStore, DirectoryStore } from '../store/ports.js';
import { ConnectorHealthService } from './health-service.js';
import { utcDay } from './recorder.js';
import type { HealthWarning } from './warnings.js';

export const WATCH_INTERVAL_MS = 3_600_000;
/** Traffic days, certificates and sources not seen for this long are forgotten. */
export const HISTORY_DAYS = 90;
const DAY = 86_400_000;

export interface WatchOptions {
  directory: Pick<DirectoryStore, 'load'>;
  health: Pick<ConnectorHealthStore, 'read' | 'prune'>;
  clock?: Clock;
  intervalMs?: number;
  log?: LogFn;
  /** Told each round's warnings too (serve: the tenants' connector-health webhooks). */
  onWarnings?: (warnings: readonly HealthWarning[], at: number) => Promise<unknown>;
}

export class ConnectorHealthWatch {
  private timer: NodeJS.Timeout | null = null;
  private readonly service: ConnectorHealthService;
  private readonly clock: Clock;

  constructor(private readonly options: WatchOptions) {
    this.clock = options.clock ?? systemClock;
    this.service = new ConnectorHealthService({ directory: options.directory, health: options.health, clock: this.clock });
  }

  /** Logs the warnings now (a failure is logged, never thrown), then every interval. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round: prune what is too old, then log every warning. */
  async check(): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    try {
      const cutoff = this.clock.now().getTime() - HISTORY_DAYS * DAY;
      await this.options.health.prune(utcDay(cutoff), cutoff);
      const report = await this.service.report();
      for (const w of report.warnings) {
        log('warn', `connector health: tenant ${w.tenant}, connector ${w.connector}: ${w.message}`, { tenant: w.tenant, connector: w.connector, warning: w.code, ...(w.fingerprint ? { fingerprint: w.fingerprint } : {}) });
      }
      await this.options.onWarnings?.(report.warnings, this.clock.now().getTime());
    } catch (err) {
      log('error', `connector health: could not check: ${messageOf(err)}`);
    }
  }
}
