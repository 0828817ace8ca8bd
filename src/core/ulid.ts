/**
 * ULIDs (https://github.com/ulid/spec): 48 bits of milliseconds and 80 random bits in 26 characters
 * of Crockford's base32, so ids sort by creation time. The clock and the random source are
 * parameters (core/ does no I/O): tests get a deterministic generator, app/ and the store adapters
 * give the real clock and crypto's random bytes.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const MAX_TIME = 2 ** 48 - 1;

/** Makes one new id per call. */
export type IdGenerator = () => string;

export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

/** The canonical (upper-case) form of a ULID written in any case, or null when it is not one. */
export function canonicalUlid(value: string): string | null {
  const upper = value.toUpperCase();
  return isUlid(upper) ? upper : null;
}

export function encodeUlid(time: number, random: Uint8Array): string {
  if (!Number.isInteger(time) || time < 0 || time > MAX_TIME) throw new RangeError(`ULID time out of range: ${time}`);
  if (random.length !== 10) throw new RangeError('a ULID needs 10 random bytes');
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  // 80 bits → 16 characters of 5 bits, most significant first.
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >> bits) & 31]!;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** A generator on the given clock and random source. */
export function ulidGenerator(now: () => number, random: (size: number) => Uint8Array): IdGenerator {
  return () => encodeUlid(now(), random(10));
}

/** Deterministic ids for tests: a fixed instant and a counter in the random part. */
export function sequentialUlids(time = Date.UTC(2026, 0, 1)): IdGenerator {
  let n = 0;
  return () => {
    n++;
    const random = new Uint8Array(10);
    new DataView(random.buffer).setUint32(6, n);
    return encodeUlid(time, random);
  };
}
