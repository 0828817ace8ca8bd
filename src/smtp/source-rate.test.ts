import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceRate } from './source-rate.js';

test('counts events per source within the sliding window', () => {
  const rate = new SourceRate(60_000, 3);
  rate.add('192.0.2.1', 0);
  rate.add('192.0.2.1', 30_000);
  rate.add('192.0.2.2', 30_000);
  assert.equal(rate.count('192.0.2.1', 59_999), 2);
  assert.equal(rate.count('192.0.2.1', 60_000), 1, 'the first event left the window');
  assert.equal(rate.count('192.0.2.2', 60_000), 1);
  assert.equal(rate.count('192.0.2.3', 60_000), 0);
});

test('keeps at most cap events per source and at most maxSources sources', () => {
  const rate = new SourceRate(60_000, 3, 2);
  for (let i = 0; i < 10; i++) rate.add('192.0.2.1', i);
  assert.equal(rate.count('192.0.2.1', 10), 3, 'a source at the cap stays at the cap');
  rate.add('192.0.2.2', 11);
  rate.add('192.0.2.3', 12);
  assert.equal(rate.count('192.0.2.1', 13), 0, 'the oldest-tracked source was forgotten');
  assert.equal(rate.count('192.0.2.2', 13), 1);
  assert.equal(rate.count('192.0.2.3', 13), 1);
});
