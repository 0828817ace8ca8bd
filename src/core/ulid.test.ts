import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalUlid, encodeUlid, isUlid, sequentialUlids, ulidGenerator } from './ulid.js';

test('the time part is the spec example, the random part 80 bits in 16 characters', () => {
  // https://github.com/ulid/spec: 01ARZ3NDEK is 1469922850259 ms.
  assert.equal(encodeUlid(1469922850259, new Uint8Array(10)), '01ARZ3NDEK0000000000000000');
  assert.equal(encodeUlid(0, new Uint8Array(10).fill(0xff)), '0000000000ZZZZZZZZZZZZZZZZ');
  assert.equal(encodeUlid(2 ** 48 - 1, new Uint8Array(10)), '7ZZZZZZZZZ0000000000000000');
  assert.equal(encodeUlid(0, Uint8Array.from([0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21])), '00000000001111111111111111');
  assert.throws(() => encodeUlid(2 ** 48, new Uint8Array(10)), RangeError);
  assert.throws(() => encodeUlid(1, new Uint8Array(9)), RangeError);
});

test('ids sort by time; a generator uses the clock and the random source it is given', () => {
  let now = 1_000;
  const next = ulidGenerator(() => now, (n) => new Uint8Array(n).fill(7));
  const a = next();
  now = 2_000;
  const b = next();
  assert.ok(a < b && isUlid(a) && isUlid(b));
  const seq = sequentialUlids();
  const ids = [seq(), seq(), seq()];
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual(ids, (() => { const again = sequentialUlids(); return [again(), again(), again()]; })(), 'deterministic');
});

test('only canonical ULIDs are ids; any case reads, upper case is kept', () => {
  assert.equal(canonicalUlid('01kdvdna004xnwfyf7pxynw6va'), '01KDVDNA004XNWFYF7PXYNW6VA');
  for (const bad of ['', '01KDVDNA004XNWFYF7PXYNW6V', '81KDVDNA004XNWFYF7PXYNW6VA', '01KDVDNA004XNWFYF7PXYNW6VI', '01KDVDNA004XNWFYF7PXYNW6VU', 'demo']) {
    assert.equal(canonicalUlid(bad), null, bad);
  }
});
