/**
 * Failed authentications per client address: after `maxFailures` in one window the address gets
 * `rate-limited` until the window ends, for every request that carries credentials, so guessing
 * cannot go faster than that and a correct guess inside a blocked window is not confirmed. In
 * memory and per process; the table is bounded (the oldest windows go first).
 */
import type { Clock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';

const MAX_ADDRESSES = 10_000;

export interface AuthThrottleSettings {
  maxFailures: number;
  windowMs: number;
  clock: Clock;
}

export class AuthThrottle {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly settings: AuthThrottleSettings) {}

  /** Throws `rate-limited` (details.retryAfter in seconds) while the address is blocked. */
  check(address: string): void {
    const now = this.settings.clock.now().getTime();
    const w = this.windows.get(address);
    if (!w || now >= w.start + this.settings.windowMs) return;
    if (w.failures < this.settings.maxFailures) return;
    const retryAfter = Math.max(1, Math.ceil((w.start + this.settings.windowMs - now) / 1000));
    throw new RelaygateError('rate-limited', `too many failed authentications from this address: try again in ${retryAfter} s`, { details: { retryAfter } });
  }

  failed(address: string): void {
    const now = this.settings.clock.now().getTime();
    const w = this.windows.get(address);
    if (w && now < w.start + this.settings.windowMs) {
      w.failures++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { start: now, failures: 1 });
  }
}
