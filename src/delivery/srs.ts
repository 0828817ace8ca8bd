/**
 * Sender Rewriting Scheme (Shevek's SRS0/SRS1, as in libsrs2 and postsrsd), hand-written: the npm
 * packages for it (`srs.js` 0.1.0, `sender-rewriting-scheme` 1.0.0) are unmaintained single
 * releases without types, and the scheme is ~100 lines over node:crypto.
 *
 *   forward  user@orig.example             → SRS0=HHHH=TT=orig.example=user@rewrite.domain
 *   forward  SRS0=HHHH=TT=orig=user@fwd1   → SRS1=HHHH=fwd1==HHHH=TT=orig=user@rewrite.domain
 *   reverse  undoes one step, checking the HMAC (HHHH) and the age of the timestamp (TT, days mod 1024).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { splitAddress, type AddressParts } from '../core/address.js';
import type { Clock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DAY = 86_400_000;
const TIME_SLOTS = 1024;
const DEFAULT_MAX_AGE_DAYS = 21;

/**
 * How long after minting an address can still pass `reverse`'s age check (the timestamp counts
 * whole days, so up to one day more than `maxAgeDays`): how long its record must be kept.
 */
export function srsValidityMs(maxAgeDays = DEFAULT_MAX_AGE_DAYS): number {
  return (maxAgeDays + 1) * DAY;
}

export interface SrsSettings {
  /** The first secret signs; all of them verify (so secrets can be rotated). */
  secrets: readonly string[];
  /** Our domain: rewritten addresses end in @rewriteDomain. */
  rewriteDomain: string;
  /** Reverse refuses addresses older than this many days (default 21). */
  maxAgeDays?: number;
  hashLength?: number;
}

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  return out;
}

/** An address that is not an SRS address of ours, or not one any more. */
export class SrsError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'SrsError';
  }
}

function partsOf(address: string): AddressParts {
  const parts = splitAddress(address);
  if (!parts || parts.local === '' || parts.domain === '') throw new SrsError(`not an address: ${address}`);
  return parts;
}

export class Srs {
  private readonly maxAgeDays: number;
  private readonly hashLength: number;

  constructor(
    private readonly settings: SrsSettings,
    private readonly clock: Clock,
  ) {
    if (settings.secrets.length === 0 || settings.secrets.some((s) => s.length < 16)) {
      throw new SrsError('SRS needs at least one secret of 16 or more characters');
    }
    this.maxAgeDays = settings.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
    this.hashLength = settings.hashLength ?? 8;
  }

  /**
   * HMAC-SHA256 over the parts, each ended by a NUL so that no character can move from one part to
   * the next (`contoso.com`+`bob` ≠ `contoso.co`+`mbob`), in base32: SMTP servers may change the
   * case of a local part, and a single-case alphabet keeps all the hash's bits under a
   * case-insensitive comparison (8 characters = 40 bits; libsrs2's 4 base64 characters compared
   * without case are about 21).
   */
  private hash(secret: string, ...parts: string[]): string {
    const h = createHmac('sha256', secret);
    for (const p of parts) h.update(p.toLowerCase() + '\0');
    return base32(h.digest()).slice(0, this.hashLength);
  }

  private timestamp(): string {
    const day = Math.floor(this.clock.now().getTime() / DAY) % TIME_SLOTS;
    return BASE32[day >> 5]! + BASE32[day & 31]!;
  }

  private checkHash(given: string, ...parts: string[]): void {
    for (const secret of this.settings.secrets) {
      const expected = Buffer.from(this.hash(secret, ...parts).toLowerCase());
      const actual = Buffer.from(given.toLowerCase());
      if (expected.length === actual.length && timingSafeEqual(expected, actual)) return;
    }
    throw new SrsError('SRS hash does not match');
  }

  private checkTimestamp(tt: string): void {
    const upper = tt.toUpperCase();
    const hi = BASE32.indexOf(upper[0] ?? '');
    const lo = BASE32.indexOf(upper[1] ?? '');
    if (upper.length !== 2 || hi < 0 || lo < 0) throw new SrsError(`bad SRS timestamp: ${tt}`);
    const then = (hi << 5) | lo;
    const today = Math.floor(this.clock.now().getTime() / DAY) % TIME_SLOTS;
    const age = (today - then + TIME_SLOTS) % TIME_SLOTS;
    if (age > this.maxAgeDays) throw new SrsError(`SRS address expired (${age} days old)`);
  }

  isSrs(address: string): boolean {
    return /^SRS[01][=+-]/i.test(address);
  }

  /** The rewritten envelope sender. The null sender is never rewritten. */
  forward(address: string): string {
    if (address === '') return '';
    const { local, domain } = partsOf(address);
    const secret = this.settings.secrets[0]!;
    if (domain.toLowerCase() === this.settings.rewriteDomain.toLowerCase()) return address;
    const srs0 = /^SRS0[=+-](.*)$/i.exec(local);
    if (srs0) {
      const hash = this.hash(secret, domain, srs0[1]!);
      return `SRS1=${hash}=${domain}==${srs0[1]}@${this.settings.rewriteDomain}`;
    }
    const srs1 = /^SRS1[=+-][^=]+=([^=]+)==(.*)$/i.exec(local);
    if (srs1) {
      const hash = this.hash(secret, srs1[1]!, srs1[2]!);
      return `SRS1=${hash}=${srs1[1]}==${srs1[2]}@${this.settings.rewriteDomain}`;
    }
    const tt = this.timestamp();
    const hash = this.hash(secret, tt, domain, local);
    return `SRS0=${hash}=${tt}=${domain}=${local}@${this.settings.rewriteDomain}`;
  }

  /** The address a bounce to `address` must go to; throws SrsError when it is not ours or is forged/expired. */
  reverse(address: string): string {
    const { local } = partsOf(address);
    const srs1 = /^SRS1[=+-]([^=]+)=([^=]+)==(.*)$/i.exec(local);
    if (srs1) {
      this.checkHash(srs1[1]!, srs1[2]!, srs1[3]!);
      return `SRS0=${srs1[3]}@${srs1[2]}`;
    }
    const srs0 = /^SRS0[=+-]([^=]+)=([^=]+)=([^=]+)=(.+)$/i.exec(local);
    if (!srs0) throw new SrsError(`not an SRS address: ${address}`);
    const [hash, tt, domain, user] = [srs0[1]!, srs0[2]!, srs0[3]!, srs0[4]!];
    this.checkHash(hash, tt, domain, user);
    this.checkTimestamp(tt);
    return `${user}@${domain}`;
  }
}
