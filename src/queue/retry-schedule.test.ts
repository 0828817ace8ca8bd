import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRetryPolicy, nextAttempt, retryPolicy, RetryPolicies, delayNoticeDue, retryInterval } from './retry-schedule.js';

const MIN = 60_000;
const t0 = Date.UTC(2026, 0, 1);

test('default schedule: 1, 5, 15, 30 minutes, then hourly', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map((n) => retryInterval(defaultRetryPolicy, n) / MIN), [1, 5, 15, 30, 60, 60, 60]);
});

test('the next attempt never lies beyond the expiry; at expiry the message has expired', () => {
  const p = retryPolicy({ intervalsMs: [MIN], expireAfterMs: 10 * MIN });
  assert.equal(nextAttempt(p, t0, 1, t0 + 2 * MIN), t0 + 3 * MIN);
  assert.equal(nextAttempt(p, t0, 5, t0 + 9.5 * MIN), t0 + 10 * MIN);
  assert.equal(nextAttempt(p, t0, 6, t0 + 10 * MIN), null);
});

test('24 hours of the default schedule: attempts count and expiry', () => {
  let now = t0;
  let attempts = 0;
  for (let i = 0; i < 100; i++) {
    attempts++;
    const next = nextAttempt(defaultRetryPolicy, t0, attempts, now);
    if (next === null) break;
    now = next;
  }
  assert.equal(now, t0 + 24 * 60 * MIN);
  // 1+5+15+30 min = 51 min, then hourly up to 24 h (23 attempts), plus the last one at the deadline.
  assert.equal(attempts, 1 + 4 + 23 + 1);
});

test('delayed notice after 4 hours by default', () => {
  assert.equal(delayNoticeDue(defaultRetryPolicy, t0, t0 + 4 * 60 * MIN - 1), false);
  assert.equal(delayNoticeDue(defaultRetryPolicy, t0, t0 + 4 * 60 * MIN), true);
});

test('a tenant can have its own policy; invalid policies are refused', () => {
  const own = retryPolicy({ expireAfterMs: 2 * 60 * MIN });
  const policies = new RetryPolicies(defaultRetryPolicy, new Map([['contoso', own]]));
  assert.equal(policies.for('contoso').expireAfterMs, 2 * 60 * MIN);
  assert.equal(policies.for('other').expireAfterMs, 24 * 60 * MIN);
  assert.equal(policies.for(null), defaultRetryPolicy);
  assert.throws(() => retryPolicy({ intervalsMs: [] }), /non-empty list of positive durations/);
  assert.throws(() => retryPolicy({ expireAfterMs: 0 }), /must be positive/);
});
