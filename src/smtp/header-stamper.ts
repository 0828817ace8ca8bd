import { Transform, type TransformCallback } from 'node:stream';
import type { MimeNode, SplitterOutput } from 'mailsplit';
import { firstHeaderAddress } from '../policy/index.js';

/** What the top-level header block tells the relay. */
export interface HeaderFacts {
  /** The first address of the first From field (P2); null when there is none. */
  headerFrom: string | null;
  subject: string | null;
  messageId: string | null;
  /** How many `Received:` fields the message arrived with: the hops it has made so far. */
  received: number;
}

/** Given the header facts, the header fields to put on top (each a full, folded `Name: value`). */
export type Stamp = (facts: HeaderFacts) => Promise<string[]>;

const OUR_PREFIX = 'x-relaygate-';

/**
 * Sits between mailsplit's Splitter and Joiner. On the message's top-level header block — which
 * arrives before any body byte, so nothing is buffered beyond the headers — it removes inbound
 * copies of our `X-Relaygate-*` fields, reads From/Subject/Message-ID, asks `stamp` for the fields
 * to add (Received, X-Relaygate-*) and puts them on top. Everything else passes through untouched.
 */
export class HeaderStamper extends Transform {
  private stamped = false;

  constructor(private readonly stamp: Stamp) {
    super({ objectMode: true });
  }

  override _transform(obj: SplitterOutput | Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.stamped || Buffer.isBuffer(obj) || obj.type !== 'node' || !obj.root) return done(null, obj);
    this.stamped = true;
    const node: MimeNode = obj;
    for (const { key } of [...node.headers.getList()]) {
      if (key.startsWith(OUR_PREFIX)) node.headers.remove(key);
    }
    this.stamp(readFacts(node)).then(
      (lines) => {
        for (const line of [...lines].reverse()) node.headers.addFormatted(line.slice(0, line.indexOf(':')), binaryOf(line), 0);
        done(null, node);
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** A message without any header block still gets ours (and a blank line before its body). */
  override _flush(done: TransformCallback): void {
    if (this.stamped) return done();
    this.stamped = true;
    this.stamp({ headerFrom: null, subject: null, messageId: null, received: 0 }).then(
      (lines) => {
        this.push(Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'));
        done();
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

function readFacts(node: MimeNode): HeaderFacts {
  const value = (key: string): string | null => {
    const line = node.headers.get(key)[0];
    if (line === undefined) return null;
    return utf8Text(line.slice(line.indexOf(':') + 1)).replace(/\r?\n[ \t]+/g, ' ').trim();
  };
  const from = value('from');
  return {
    headerFrom: from === null ? null : firstHeaderAddress(from),
    subject: value('subject'),
    messageId: value('message-id'),
    received: node.headers.get('received').length,
  };
}

/**
 * mailsplit keeps header lines as binary strings, one character per byte. A header's text is its
 * UTF-8 reading (RFC 6532); bytes that are not UTF-8 read as U+FFFD, never as Latin-1, so a From
 * judged here is the From a UTF-8 reader downstream sees.
 */
function utf8Text(binary: string): string {
  return Buffer.from(binary, 'latin1').toString('utf8');
}

/** The other way: a header line we write (an SMTPUTF8 recipient in Received) as mailsplit's binary string of its UTF-8 bytes. */
function binaryOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
