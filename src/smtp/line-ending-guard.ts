import { Transform, type TransformCallback } from 'node:stream';
import type { BareLineEndingPolicy } from '../directory/model.js';
import { RelaygateError } from '../core/errors.js';

const NUL = 0x00;
const LF = 0x0a;
const CR = 0x0d;
const CR_ONLY = Buffer.from('\r');
const CRLF = Buffer.from('\r\n');

/** A bare CR or LF reached the message: the session answers `550 5.6.11` and closes. */
export class BareLineEndingError extends RelaygateError {
  constructor(readonly offset: number) {
    super('invalid', `bare CR or LF at byte ${offset} of the message`, { details: { offset } });
    this.name = 'BareLineEndingError';
  }
}

/** A NUL reached the message: the session refuses it and closes, as for a bare line ending. */
export class NulCharacterError extends RelaygateError {
  constructor(readonly offset: number) {
    super('invalid', `NUL at byte ${offset} of the message`, { details: { offset } });
    this.name = 'NulCharacterError';
  }
}

/**
 * Checks the (already dot-unstuffed) DATA stream for line endings other than CRLF and for NUL.
 *
 * Why: SMTP smuggling (`\n.\n`, `\r\n.\n`, `\r.\r\n`, `\r\n\x00.\r\n`, ...) relies on two servers
 * disagreeing on where DATA ends. smtp-server ends DATA only at `\r\n.\r\n`, so nothing is split
 * here; but a lax next hop could read a terminator into a bare CR/LF, and one that strips NUL (no
 * BINARYMIME is offered, so a NUL is never legitimate) into `\r\n\x00.\r\n`. `reject` (the
 * default) fails the message at the first such byte; `normalize` (per connector, for legacy
 * devices) drops every NUL and then rewrites every remaining line ending to CRLF, after which no
 * next hop can read a terminator into it.
 *
 * The verdict and the output depend on the bytes only, never on how they were chunked: a CR at the
 * end of a chunk is undecided until the next byte arrives (or the stream ends), and it is held back
 * until then, so every byte passed downstream (to mailsplit, the stamping and the spool) is one the
 * guard has already judged.
 */
export class LineEndingGuard extends Transform {
  /** Bytes of input consumed before the current chunk. */
  private offset = 0;
  /** The last byte judged so far is a CR whose meaning depends on the next one; it is held back. */
  private pendingCr = false;

  constructor(private readonly policy: BareLineEndingPolicy) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const result = this.policy === 'reject' ? this.check(chunk) : this.normalize(chunk);
    this.offset += chunk.length;
    if (result instanceof Error) return done(result);
    for (const part of result) if (part.length > 0) this.push(part);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      if (this.policy === 'reject') return done(new BareLineEndingError(this.offset - 1));
      this.push(CRLF);
    }
    done();
  }

  /** `reject`: the chunk as it may pass on (without a trailing CR, held back), or the first offence. */
  private check(chunk: Buffer): Buffer[] | Error {
    const len = chunk.length;
    const out: Buffer[] = [];
    let i = 0;
    if (this.pendingCr && len > 0) {
      if (chunk[0] !== LF) return new BareLineEndingError(this.offset - 1);
      this.pendingCr = false;
      out.push(CR_ONLY);
      i = 1;
    }
    let end = len;
    for (; i < len; i++) {
      const b = chunk[i]!;
      if (b > CR) continue;
      if (b === CR) {
        if (i + 1 === len) {
          this.pendingCr = true;
          end = i;
          break;
        }
        if (chunk[i + 1] !== LF) return new BareLineEndingError(this.offset + i);
        i++;
      } else if (b === LF) {
        return new BareLineEndingError(this.offset + i);
      } else if (b === NUL) {
        return new NulCharacterError(this.offset + i);
      }
    }
    out.push(chunk.subarray(0, end));
    return out;
  }

  /**
   * `normalize`: NULs are dropped, then a CR followed by LF passes, and any other CR or LF becomes
   * CRLF. A CR is decided by the next byte that is not a NUL.
   */
  private normalize(chunk: Buffer): Buffer[] {
    const len = chunk.length;
    const out: Buffer[] = [];
    let start = 0;
    const cut = (end: number) => {
      if (end > start) out.push(chunk.subarray(start, end));
    };
    for (let i = 0; i < len; i++) {
      const b = chunk[i]!;
      if (b > CR && !this.pendingCr) continue;
      if (b === NUL) {
        cut(i);
        start = i + 1;
        continue;
      }
      if (this.pendingCr) {
        // Everything since the held CR was NUL, so the run starts here.
        this.pendingCr = false;
        out.push(CRLF);
        if (b === LF) {
          start = i + 1;
          continue;
        }
      }
      if (b === CR) {
        if (i + 1 < len && chunk[i + 1] === LF) {
          i++;
          continue;
        }
        cut(i);
        start = i + 1;
        this.pendingCr = true;
      } else if (b === LF) {
        cut(i);
        out.push(CRLF);
        start = i + 1;
      }
    }
    cut(len);
    return out;
  }
}
