import { Transform, type TransformCallback } from 'node:stream';
import type { BareLineEndingPolicy } from '../directory/model.js';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/** A bare CR or LF reached the message: the session answers `550 5.6.11` and closes. */
export class BareLineEndingError extends Error {
  constructor(readonly offset: number) {
    super(`bare CR or LF at byte ${offset} of the message`);
    this.name = 'BareLineEndingError';
  }
}

/**
 * Checks the (already dot-unstuffed) DATA stream for line endings other than CRLF.
 *
 * Why: SMTP smuggling (e.g. `\n.\n`, `\r\n.\n`, `\r.\r\n`) relies on two servers disagreeing on
 * where DATA ends. smtp-server ends DATA only at `\r\n.\r\n`, so nothing is split here; but a
 * message carrying a bare CR/LF could be split by a lax next hop, so `reject` (the default) fails
 * it as soon as one is seen, and `normalize` (per connector, for legacy devices) rewrites every
 * line ending to CRLF, after which no next hop can read a terminator into it.
 */
export class LineEndingGuard extends Transform {
  private offset = 0;
  /** The previous chunk ended in CR: its meaning depends on the next byte. */
  private pendingCr = false;

  constructor(private readonly policy: BareLineEndingPolicy) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.policy === 'reject') {
      const bad = this.findBare(chunk);
      if (bad >= 0) return done(new BareLineEndingError(bad));
      this.offset += chunk.length;
      this.pendingCr = chunk.length > 0 && chunk[chunk.length - 1] === CR;
      return done(null, chunk);
    }
    done(null, this.normalize(chunk));
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingCr) {
      if (this.policy === 'reject') return done(new BareLineEndingError(this.offset - 1));
      this.push(CRLF);
    }
    done();
  }

  /** Offset (in the whole message) of the first bare CR or LF, or -1. */
  private findBare(chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF) {
        const prevCr = i === 0 ? this.pendingCr : chunk[i - 1] === CR;
        if (!prevCr) return this.offset + i;
      } else if (b === CR) {
        if (i + 1 < chunk.length && chunk[i + 1] !== LF) return this.offset + i;
      } else if (i === 0 && this.pendingCr) {
        return this.offset - 1;
      }
    }
    return -1;
  }

  private normalize(chunk: Buffer): Buffer {
    let start = 0;
    const parts: Buffer[] = [];
    const flushRun = (end: number) => {
      if (end > start) parts.push(chunk.subarray(start, end));
    };
    let i = 0;
    if (this.pendingCr) {
      // The CR ended the previous chunk: it was held back, write it with its LF now.
      parts.push(CRLF);
      if (chunk.length > 0 && chunk[0] === LF) i = 1;
      start = i;
      this.pendingCr = false;
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CR) {
        if (i + 1 === chunk.length) {
          flushRun(i);
          this.pendingCr = true;
          start = i + 1;
          break;
        }
        if (chunk[i + 1] === LF) {
          i++;
          continue;
        }
        flushRun(i);
        parts.push(CRLF);
        start = i + 1;
      } else if (b === LF) {
        flushRun(i);
        parts.push(CRLF);
        start = i + 1;
      }
    }
    if (!this.pendingCr) flushRun(chunk.length);
    this.offset += chunk.length;
    return Buffer.concat(parts);
  }
}
