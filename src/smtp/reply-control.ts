import { Replies, type SmtpReply } from '../core/reply.js';

/**
 * A refusal for a session ReplyControl does not drive. smtp-server writes the basic code, then the
 * enhanced code it derives from it, then the text: right for the replies whose enhanced code is the
 * library's own for their basic code (451 → 4.3.0, checked by reply-control.test.ts), and only for those.
 */
export function libraryRefusal(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

type SendFn = (code: number, data?: string | string[], context?: string | false) => void;

/** The part of smtp-server's (internal) SMTPConnection the relay drives. */
export interface SmtpConnectionHandle {
  id: string;
  send: SendFn;
  close(): void;
  /**
   * Internal state read by the phase deadlines, the same that smtp-server's own idle timer reads
   * to tell whether the client or the server is the one to act.
   */
  readonly _closing?: boolean;
  readonly _closed?: boolean;
  readonly _handlerPending?: boolean;
  readonly _dataStream?: unknown;
  readonly _parser?: { readonly _dataMode?: boolean } | false;
}

/** Told of every reply code written, after it was written. */
export type ReplyObserver = (code: number) => void;

/**
 * Makes smtp-server send the contract's exact reply texts (relay-policy.md §8).
 *
 * Why: smtp-server adds its own enhanced status code to every reply (from the basic code: 550 →
 * 5.0.0) and writes fixed texts ("Accepted", "Error: too many recipients"), but the contract fixes
 * both the enhanced code and the text (`550 5.7.64 TenantAttribution; Relay Access Denied`). The
 * handlers announce the reply they decided; this wrapper of the connection's `send` writes it
 * verbatim in place of the library's.
 */
export class ReplyControl {
  private next: { reply: SmtpReply; close: boolean } | null = null;
  private readonly original: SendFn;
  private unknownCommands = 0;

  /**
   * `maxUnknownCommands`: smtp-server closes at its own fixed count (10); a lower configured
   * limit is enforced here, where its "command not recognized" replies pass.
   * `observer` learns of each reply (the session's phase deadlines are timed from them).
   */
  constructor(
    private readonly connection: SmtpConnectionHandle,
    private readonly maxUnknownCommands = Infinity,
    private readonly observer: ReplyObserver = () => undefined,
  ) {
    this.original = connection.send.bind(connection);
    connection.send = (code, data, context) => this.send(code, data, context);
  }

  /** The library's next reply with this code becomes `reply` (and the connection closes after it). */
  expect(reply: SmtpReply, close = false): void {
    this.next = { reply, close };
  }

  /** Sends a reply now, outside the library's command flow. */
  sendNow(reply: SmtpReply, close = false): void {
    this.write(reply.code, `${reply.enhanced} ${reply.text}`, false);
    if (close) this.connection.close();
  }

  /** An error for a handler callback whose reply the wrapper then writes exactly. */
  refuse(reply: SmtpReply, close = false): Error & { responseCode: number } {
    this.expect(reply, close);
    return Object.assign(new Error(`${reply.enhanced} ${reply.text}`), { responseCode: reply.code });
  }

  private send(code: number, data?: string | string[], context?: string | false): void {
    const pending = this.next;
    if (pending && pending.reply.code === code) {
      this.next = null;
      this.sendNow(pending.reply, pending.close);
      return;
    }
    if (code === 500 && typeof data === 'string' && /command not recognized/i.test(data) && ++this.unknownCommands >= this.maxUnknownCommands) {
      this.sendNow(Replies.tooManyUnknownCommands, true);
      return;
    }
    const mapped = libraryReplyFor(code, data);
    if (mapped) return this.write(mapped.code, `${mapped.enhanced} ${mapped.text}`, false);
    this.write(code, data, context);
  }

  private write(code: number, data?: string | string[], context?: string | false): void {
    this.original(code, data, context);
    this.observer(code);
  }
}

/** smtp-server's own replies that the contract words differently. */
function libraryReplyFor(code: number, data: string | string[] | undefined): SmtpReply | null {
  const text = typeof data === 'string' ? data : '';
  if (code === 552 && /maximum message size/i.test(text)) return Replies.messageTooBig;
  if (code === 452 && /too many recipients/i.test(text)) return Replies.tooManyRecipients;
  // Addresses smtp-server's parser refuses before the policy engine sees them.
  if (code === 501 && /bad recipient address syntax/i.test(text)) return Replies.invalidRecipient;
  if (code === 501 && /bad sender address syntax/i.test(text)) return Replies.invalidSender;
  return null;
}
