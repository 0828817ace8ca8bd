import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTransition, canTransition, sourcesOf, TransitionError } from './states.js';

test('the transitions written at the top of states.ts', () => {
  assert.equal(canTransition('queued', 'inflight'), true);
  assert.equal(canTransition('inflight', 'delivered'), true);
  assert.equal(canTransition('deferred', 'inflight'), true);
  assert.equal(canTransition('held', 'queued'), true);
  assert.equal(canTransition('delivered', 'queued'), false);
  assert.equal(canTransition('failed', 'inflight'), false);
  assert.equal(canTransition('held', 'inflight'), false, 'a held recipient is never claimed');
  assert.deepEqual(sourcesOf('held'), ['queued', 'deferred']);
  assert.deepEqual(sourcesOf('failed'), ['queued', 'inflight', 'deferred', 'held']);
});

test('a forbidden transition throws naming both states', () => {
  assert.throws(() => assertTransition('delivered', 'queued'), (e: unknown) => e instanceof TransitionError && e.message === 'a recipient cannot go from delivered to queued');
  assert.throws(() => assertTransition('bogus', 'queued'), /from bogus to queued/);
});
