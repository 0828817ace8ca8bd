/**
 * Our `X-Relaygate-*` fields (tenant, connector, attribution, directionality) say how the relay
 * judged a message. They sit in the top-level header block (smtp/header-stamper.ts puts them there);
 * a copy of the content without them is read through mailsplit, the body passing through untouched.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { Joiner, Splitter, type SplitterOutput } from 'mailsplit';

const OUR_PREFIX = 'x-relaygate-';

class OurHeaderRemover extends Transform {
  private done = false;

  constructor() {
    super({ objectMode: true });
  }

  override _transform(obj: SplitterOutput | Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (!this.done && !Buffer.isBuffer(obj) && obj.type === 'node' && obj.root) {
      this.done = true;
      for (const { key } of [...obj.headers.getList()]) {
        if (key.startsWith(OUR_PREFIX)) obj.headers.remove(key);
      }
    }
    callback(null, obj);
  }
}

/** The message read from `source` without our `X-Relaygate-*` header fields. */
export function withoutOurHeaders(source: Readable): Readable {
  const joiner = new Joiner();
  // A header block of any size the relay accepted (and stamped) is read again here.
  const splitter = new Splitter({ ignoreEmbedded: true, maxHeadSize: 2 * 1024 * 1024, maxChildNodes: Number.MAX_SAFE_INTEGER });
  return pipeline(source, splitter, new OurHeaderRemover(), joiner, () => undefined);
}
