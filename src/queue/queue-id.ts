import { randomBytes } from 'node:crypto';

/** Crockford's base32 alphabet, lower case: URL-safe, no look-alike letters (i, l, o, u). */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10; // 50 bits of milliseconds: enough until the year 37000
const RANDOM_CHARS = 10; // 50 random bits: collisions within one millisecond are not a concern

/**
 * A queue id: the arrival time in milliseconds then randomness, both base32, so ids sort by time
 * as plain strings (the queue list and the trace rely on it). 20 characters, URL-safe.
 */
export function newQueueId(at: Date): string {
  let time = at.getTime();
  if (!Number.isSafeInteger(time) || time < 0) throw new RangeError(`invalid queue id time: ${at.toISOString()}`);
  let head = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    head = ALPHABET[time % 32] + head;
    time = Math.floor(time / 32);
  }
  const bytes = randomBytes(RANDOM_CHARS);
  let tail = '';
  for (const b of bytes) tail += ALPHABET[b % 32];
  return head + tail;
}

export function isQueueId(text: string): boolean {
  return /^[0-9a-hjkmnp-tv-z]{20}$/.test(text);
}

/** The arrival time a queue id carries. */
export function queueIdTime(id: string): Date {
  let time = 0;
  for (const ch of id.slice(0, TIME_CHARS)) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new RangeError(`not a queue id: ${id}`);
    time = time * 32 + v;
  }
  return new Date(time);
}
