import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQueueId, newQueueId, queueIdTime } from './queue-id.js';

test('queue ids are 20 URL-safe characters that carry their time', () => {
  const at = new Date('2026-11-22T12:00:00.123Z');
  const id = newQueueId(at);
  assert.equal(id.length, 20);
  assert.ok(isQueueId(id), id);
  assert.match(id, /^[A-Za-z0-9_-]+$/);
  assert.equal(queueIdTime(id).toISOString(), at.toISOString());
});

test('queue ids sort by time as strings', () => {
  const ids = [0, 1, 31, 32, 1000, 86_400_000].map((d) => newQueueId(new Date(1_700_000_000_000 + d)));
  assert.deepEqual([...ids].sort(), ids);
});

test('ids made in the same millisecond differ', () => {
  const at = new Date();
  const ids = new Set(Array.from({ length: 1000 }, () => newQueueId(at)));
  assert.equal(ids.size, 1000);
});

test('a time before 1970 is refused', () => {
  assert.throws(() => newQueueId(new Date(-1)), /invalid queue id time/);
});
