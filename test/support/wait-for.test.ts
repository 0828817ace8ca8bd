import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, WaitTimeoutError } from './wait-for.js';

test('waitFor returns the first truthy value of the condition, sync or async', async () => {
  let calls = 0;
  assert.equal(await waitFor(() => (++calls >= 3 ? 'ready' : null), { message: 'three calls', intervalMs: 1 }), 'ready');
  assert.equal(calls, 3);
  assert.deepEqual(await waitFor(async () => [1], { message: 'a list' }), [1]);
});

test('waitFor fails with the message, and the state at the time, when the condition never holds', async () => {
  let checks = 0;
  await assert.rejects(
    waitFor(() => (checks++, false), { message: () => `the flag (checked ${checks} times)`, timeoutMs: 50, intervalMs: 5 }),
    (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /^timed out after 50 ms waiting for: the flag \(checked \d+ times\)$/);
      return true;
    },
  );
  assert.ok(checks >= 2, 'it checked again before giving up');
});

test('an error thrown by the condition fails the wait at once', async () => {
  await assert.rejects(waitFor(() => { throw new Error('broken'); }, { message: 'never', timeoutMs: 5_000 }), /^Error: broken$/);
});
