/**
 * The one bounded wait of the tests (after chasquid's testlib.WaitFor): checks COND every
 * intervalMs until it gives a truthy value, which it returns, and fails the test with MESSAGE when
 * timeoutMs pass first. It never returns without the condition holding.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** What is awaited, for the failure; a function to report the state at the time of failure. */
  message: string | (() => string);
  timeoutMs?: number;
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function waitFor<T>(cond: () => T | Promise<T>, { message, timeoutMs = 10_000, intervalMs = 10 }: WaitForOptions): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value) return value as Truthy<T>;
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for: ${typeof message === 'function' ? message() : message}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}
