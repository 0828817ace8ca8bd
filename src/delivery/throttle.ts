/**
 * Politeness limits for delivery: a global cap on concurrent connections, a cap per destination
 * (route host or recipient domain), and messages-per-minute rates per destination and per tenant
 * (sliding one-minute window on the injected clock). The scheduler asks before each transaction;
 * a refusal says which limit was hit and when to try again, and costs the recipient no attempt.
 */
import type { Clock } from '../core/clock.js';

export interface ThrottleLimits {
  globalConcurrency: number;
  perDestinationConcurrency: number;
  /** Messages per minute to one destination; 0 = unlimited. */
  perDestinationPerMinute: number;
  /** Messages per minute from one tenant; 0 = unlimited. */
  perTenantPerMinute: number;
}

export const defaultThrottleLimits: ThrottleLimits = Object.freeze({
  globalConcurrency: 100,
  perDestinationConcurrency: 10,
  perDestinationPerMinute: 0,
  perTenantPerMinute: 0,
});

export type ThrottleRefusal = {
  ok: false;
  limit: 'global concurrency' | 'destination concurrency' | 'destination rate' | 'tenant rate';
  /** When a retry may succeed (epoch ms); for concurrency limits: now (retry when a slot frees). */
  retryAt: number;
  text: string;
};

const WINDOW = 60_000;

/** A held connection slot; release it when the session closes. */
export interface Slot {
  release(): void;
}

export class Throttle {
  private active = 0;
  private readonly perDestination = new Map<string, number>();
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly clock: Clock,
  ) {}

  /** A connection slot to `destination`, or why not. */
  acquireConnection(destination: string): { ok: true; slot: Slot } | ThrottleRefusal {
    const now = this.clock.now().getTime();
    if (this.active >= this.limits.globalConcurrency) {
      return { ok: false, limit: 'global concurrency', retryAt: now, text: `global limit of ${this.limits.globalConcurrency} concurrent connections reached` };
    }
    const current = this.perDestination.get(destination) ?? 0;
    if (current >= this.limits.perDestinationConcurrency) {
      return { ok: false, limit: 'destination concurrency', retryAt: now, text: `limit of ${this.limits.perDestinationConcurrency} concurrent connections to ${destination} reached` };
    }
    this.active++;
    this.perDestination.set(destination, current + 1);
    let released = false;
    return {
      ok: true,
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.active--;
          const n = (this.perDestination.get(destination) ?? 1) - 1;
          if (n <= 0) this.perDestination.delete(destination);
          else this.perDestination.set(destination, n);
        },
      },
    };
  }

  /** Counts one message to `destination` from `tenant` if both rates allow it now. */
  admitMessage(destination: string, tenant: string | null): { ok: true } | ThrottleRefusal {
    const now = this.clock.now().getTime();
    const dKey = `d:${destination}`;
    const tKey = tenant !== null ? `t:${tenant}` : null;
    const dWait = this.waitFor(dKey, this.limits.perDestinationPerMinute, now);
    if (dWait !== null) {
      return { ok: false, limit: 'destination rate', retryAt: dWait, text: `rate limit of ${this.limits.perDestinationPerMinute} messages per minute to ${destination} reached` };
    }
    const tWait = tKey ? this.waitFor(tKey, this.limits.perTenantPerMinute, now) : null;
    if (tWait !== null) {
      return { ok: false, limit: 'tenant rate', retryAt: tWait, text: `rate limit of ${this.limits.perTenantPerMinute} messages per minute for tenant ${tenant} reached` };
    }
    this.record(dKey, this.limits.perDestinationPerMinute, now);
    if (tKey) this.record(tKey, this.limits.perTenantPerMinute, now);
    return { ok: true };
  }

  get activeConnections(): number {
    return this.active;
  }

  /** null when a message may go now, else the time the oldest one in the window leaves it. */
  private waitFor(key: string, perMinute: number, now: number): number | null {
    if (perMinute <= 0) return null;
    const times = this.prune(key, now);
    return times.length < perMinute ? null : times[0]! + WINDOW;
  }

  private record(key: string, perMinute: number, now: number): void {
    if (perMinute <= 0) return;
    const times = this.prune(key, now);
    times.push(now);
    this.sent.set(key, times);
  }

  private prune(key: string, now: number): number[] {
    const times = (this.sent.get(key) ?? []).filter((t) => t > now - WINDOW);
    if (times.length === 0) this.sent.delete(key);
    else this.sent.set(key, times);
    return times;
  }
}
