import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLimits } from './connection-limits.js';

test('limits count per IP and in total, and a release frees exactly one slot', () => {
  const l = new ConnectionLimits(3, 2);
  assert.equal(l.acquire('a'), null);
  assert.equal(l.acquire('a'), null);
  assert.equal(l.acquire('a'), 'per-ip');
  assert.equal(l.acquire('b'), null);
  assert.equal(l.acquire('c'), 'total');
  l.release('a');
  assert.equal(l.open, 2);
  assert.equal(l.acquire('c'), null);
  l.release('zzz');
  assert.equal(l.open, 3);
});
