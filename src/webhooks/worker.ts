/**
 * Delivers the outbox. Each pass claims the due rows with a lease (on PostgreSQL nodes share the
 * outbox and claim disjoint rows), posts each signed (with the previous secret too while a
 * rotation's grace runs), and records the attempt under the lease it was claimed with: delivered
 * on a 2xx, else tried again after the schedule's next delay (with jitter), and given up (failed)
 * after the last. `serve` runs it; tests call `runOnce` with a manual clock.
 */
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { WebhookMetrics } from '../core/metrics-recorder.js';
import type { ClaimedWebhook, WebhookStore } from '../store/ports.js';
import { webhookMessageId, webhookPayload } from './payload.js';
import { defaultWebhookRetrySchedule, retryDelay, type WebhookRetrySchedule } from './retry-schedule.js';
import { postWebhook, type PostWebhook } from './sender.js';
import { signedHeaders } from './signature.js';
import type { Resolve } from './target.js';

/** serve's log (observability/logger.ts LogFn). */
export type WebhookWorkerLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface WebhookWorkerOptions {
  store: WebhookStore;
  clock: Clock;
  node: string;
  allowPrivateTargets: boolean;
  schedule?: WebhookRetrySchedule;
  /** In [0, 1): the jitter's randomness. */
  random?: () => number;
  post?: PostWebhook;
  resolve?: Resolve;
  /** How long one attempt may take; the lease is twice that. */
  timeoutMs?: number;
  /** Rows claimed per pass (posted concurrently). */
  batch?: number;
  /** How often `start`ed, it looks for due rows. */
  pollIntervalMs?: number;
  metrics?: WebhookMetrics;
  log?: WebhookWorkerLog;
}

export interface PassResult {
  delivered: number;
  retried: number;
  failed: number;
}

export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(private readonly o: WebhookWorkerOptions) {}

  /** One pass: everything due now (up to `batch`), each attempted once. */
  async runOnce(): Promise<PassResult> {
    const result: PassResult = { delivered: 0, retried: 0, failed: 0 };
    const timeoutMs = this.o.timeoutMs ?? 15_000;
    const claimed = await this.o.store.claim({ now: this.o.clock.now().getTime(), node: this.o.node, leaseMs: 2 * timeoutMs + 5_000, limit: this.o.batch ?? 20 });
    await Promise.all(claimed.map(async (row) => {
      const outcome = await this.attempt(row, timeoutMs);
      result[outcome === 'delivered' ? 'delivered' : outcome === 'retry' ? 'retried' : 'failed']++;
    }));
    this.o.metrics?.webhookBacklog(await this.o.store.backlog());
    return result;
  }

  private async attempt(row: ClaimedWebhook, timeoutMs: number): Promise<'delivered' | 'retry' | 'failed'> {
    const now = this.o.clock.now().getTime();
    const secrets = row.previousSecret !== null && row.previousSecretUntil !== null && row.previousSecretUntil > now
      ? [row.secret, row.previousSecret] : [row.secret];
    const body = JSON.stringify(webhookPayload(row));
    const headers = signedHeaders(secrets, webhookMessageId(row.id), Math.floor(now / 1000), body);
    const started = performance.now();
    const sent = await (this.o.post ?? postWebhook)(row.url, { ...headers }, body, {
      allowPrivateTargets: this.o.allowPrivateTargets,
      timeoutMs,
      ...(this.o.resolve ? { resolve: this.o.resolve } : {}),
    });
    const durationMs = performance.now() - started;
    const attempt = row.attempts + 1;
    const delay = sent.error === null ? null : retryDelay(this.o.schedule ?? defaultWebhookRetrySchedule, attempt, this.o.random ?? Math.random);
    const outcome = sent.error === null ? 'delivered' : delay === null ? 'failed' : 'retry';
    const at = this.o.clock.now().getTime();
    const recorded = await this.o.store.record({
      id: row.id, node: this.o.node, generation: row.generation, at, attempt, outcome, statusCode: sent.statusCode, durationMs, error: sent.error,
      ...(delay !== null ? { nextAttemptAt: at + delay } : {}),
    });
    if (!recorded) this.o.log?.('warn', 'webhook attempt not recorded: its lease had passed to another claim', { delivery: row.id });
    return outcome;
  }

  /** Runs a pass every poll interval until `stop`. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .catch((err: unknown) => this.o.log?.('error', `webhooks: delivery pass failed: ${messageOf(err)}`))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.pollIntervalMs ?? 1_000);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
