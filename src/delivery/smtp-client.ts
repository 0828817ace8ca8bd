/**
 * The outbound SMTP client on nodemailer's SMTPConnection (≥ 10: it normalises bare CR/LF and
 * dot-stuffs). One session per host; each message goes as one transaction carrying all of its
 * recipients for that host; the session is reused for further messages (RSET between them).
 *
 * DSN parameters: nodemailer puts one NOTIFY/ORCPT on every RCPT TO, but RFC 3461 makes them
 * per recipient, so the session swaps in the per-recipient values (see `perRecipientDsn`); a test
 * checks what the receiving server got, so a nodemailer change that breaks this fails loudly.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import { isEightBit, type DeliveryFailure, type Envelope, type EnvelopeRecipient } from '../core/envelope.js';
import { parseReply, Replies, type SmtpReply } from '../core/reply.js';
import { RelaygateError } from '../core/errors.js';
import { classifySmtpError, DeliveryError, LocalFailures, recipientRefused, triesNextHost } from './outcome.js';
import type { HopTarget } from './routing.js';

export interface ClientSettings {
  /** Our name in EHLO. */
  heloName: string;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  /** Inactivity limit: a peer that stalls longer fails the attempt (connection scope). */
  socketTimeoutMs?: number;
  /**
   * Wall-clock limits, however the peer spaces its bytes (socketTimeoutMs only catches silence, and
   * a peer that sends a byte now and then is never silent): setting the session up (connect,
   * greeting, EHLO, STARTTLS, AUTH; 5 minutes, RFC 5321 §4.5.3.2's wait for the greeting), and one
   * transaction from MAIL FROM to the reply to the end of data (10 minutes, the RFC's wait for that
   * last reply).
   */
  setupTimeoutMs?: number;
  transactionTimeoutMs?: number;
  /** Extra CAs trusted for `verify` routes (tests use their own CA). */
  ca?: string | readonly string[];
}

/**
 * One transaction's worth: the envelope as it goes out (`mailFrom` after SRS; SMTPUTF8 and
 * BODY=8BITMIME as the client declared them, needed of the peer) and the recipients for this host.
 */
export interface OutboundMessage extends Envelope {
  recipients: readonly EnvelopeRecipient[];
  size: number;
  /** Opens the full message (called once per transaction). */
  open: () => Readable;
}

/** The peer's answer for one recipient of a transaction. */
export type RecipientAnswer = { ok: true; reply: SmtpReply } | { ok: false; failure: DeliveryFailure };

export interface TransactionResult {
  recipients: Map<string, RecipientAnswer>;
  /** Set when the whole transaction failed at a host or connection level (try the next host). */
  hostFailure: DeliveryFailure | null;
  /** False when the session can take no further transactions. */
  sessionUsable: boolean;
}

/** xtext (RFC 3461 §4): "+" "=" and anything outside ! .. ~ as +HH. */
export function encodeXText(value: string): string {
  let out = '';
  for (const ch of Buffer.from(value, 'utf8')) {
    out += ch < 33 || ch > 126 || ch === 0x2b || ch === 0x3d ? '+' + ch.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(ch);
  }
  return out;
}

function dsnRcptArgs(r: EnvelopeRecipient): string {
  const args: string[] = [];
  if (r.notify) args.push('NOTIFY=' + r.notify.toUpperCase());
  if (r.orcpt) {
    const semi = r.orcpt.indexOf(';');
    args.push('ORCPT=' + (semi > 0 ? r.orcpt.slice(0, semi) + ';' + encodeXText(r.orcpt.slice(semi + 1)) : 'rfc822;' + encodeXText(r.orcpt)));
  }
  return args.length > 0 ? ' ' + args.join(' ') : '';
}

function connectionOptions(hop: HopTarget, settings: ClientSettings): ConstructorParameters<typeof SMTPConnection>[0] {
  const servername = isIP(hop.name) ? undefined : hop.name;
  const tlsOptions = {
    servername,
    rejectUnauthorized: hop.tls === 'verify',
    ca: hop.tls === 'verify' && settings.ca ? (typeof settings.ca === 'string' ? settings.ca : [...settings.ca]) : undefined,
    cert: hop.clientCert?.cert,
    key: hop.clientCert?.key,
  };
  return {
    host: hop.address,
    port: hop.port,
    servername,
    name: settings.heloName,
    ignoreTLS: hop.tls === 'none',
    requireTLS: hop.tls === 'required' || hop.tls === 'verify',
    opportunisticTLS: hop.tls === 'opportunistic',
    tls: tlsOptions,
    connectionTimeout: settings.connectionTimeoutMs ?? 30_000,
    greetingTimeout: settings.greetingTimeoutMs ?? 30_000,
    socketTimeout: settings.socketTimeoutMs ?? 300_000,
    socketCloseTimeout: 1_000,
    allowInternalNetworkInterfaces: true,
    logger: false,
  };
}

const DEFAULT_SETUP_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_TRANSACTION_TIMEOUT_MS = 10 * 60_000;

/** A next hop that did not finish in time; it becomes a connection failure (a DeliveryFailure), never thrown out. */
class DeadlineError extends RelaygateError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'DeadlineError';
  }
}

/** WORK, or a DeadlineError with MESSAGE when it takes longer than MS. */
async function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const seconds = (ms: number): string => `${ms / 1000} s`;

/** An open SMTP session to one host. */
export class SmtpSession {
  private usable = true;
  private ranOutOfTime = false;
  private currentRcpt: EnvelopeRecipient | null = null;
  private rcptByAddress = new Map<string, EnvelopeRecipient>();

  private constructor(
    private readonly conn: SMTPConnection,
    readonly hop: HopTarget,
    private readonly transactionTimeoutMs: number,
  ) {
    this.perRecipientDsn();
    conn.on('error', () => {
      this.usable = false;
    });
    conn.on('end', () => {
      this.usable = false;
    });
  }

  /** Connects, greets, STARTTLS per the hop's TLS mode, AUTH when the route has credentials. */
  static async open(hop: HopTarget, settings: ClientSettings): Promise<SmtpSession> {
    const conn = new SMTPConnection(connectionOptions(hop, settings));
    const label = `${hop.name}[${hop.address}]:${hop.port}`;
    // Errors after the first are ignored: the callbacks below report the failure once.
    conn.on('error', () => undefined);
    const setupMs = settings.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    const setUp = async (): Promise<void> => {
      // nodemailer reports connect failures as 'error' (or 'end') events, not through the callback.
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        const onEnd = (): void => reject(new Error('connection closed during the greeting'));
        conn.once('error', onError);
        conn.once('end', onEnd);
        conn.connect((err) => {
          conn.off('error', onError);
          conn.off('end', onEnd);
          if (err) reject(err);
          else resolve();
        });
      });
      if (hop.auth) {
        const auth = hop.auth;
        await new Promise<void>((resolve, reject) =>
          conn.login({ user: auth.user, pass: auth.pass }, (err) => (err ? reject(err) : resolve())),
        );
      }
    };
    try {
      await within(setUp(), setupMs, `session setup (greeting, EHLO, STARTTLS, AUTH) not done within ${seconds(setupMs)}`);
    } catch (err) {
      conn.close();
      throw new DeliveryError(err instanceof DeadlineError ? LocalFailures.connection(label, err.message) : classifySmtpError(err, label));
    }
    return new SmtpSession(conn, hop, settings.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS);
  }

  get label(): string {
    return `${this.hop.name}[${this.hop.address}]:${this.hop.port}`;
  }

  get isUsable(): boolean {
    return this.usable && !this.conn.destroyed;
  }

  get secure(): boolean {
    return this.conn.secure;
  }

  /** The TLS version and cipher of the session (`TLSv1.3 TLS_AES_256_GCM_SHA384`); null when cleartext. */
  get tlsDescription(): string | null {
    if (!this.conn.secure) return null;
    // nodemailer keeps the socket on a field it does not type.
    const socket: unknown = Reflect.get(this.conn, '_socket');
    if (!(socket instanceof TLSSocket)) return 'TLS';
    const cipher = socket.getCipher();
    return `${socket.getProtocol() ?? 'TLS'} ${cipher.standardName ?? cipher.name}`;
  }

  /** A transaction on this session ran out of time (its deadline, or the peer fell silent). */
  get timedOut(): boolean {
    return this.ranOutOfTime;
  }

  /** The extensions the peer advertised (nodemailer keeps them on a field it does not type). */
  extensions(): string[] {
    const value: unknown = Reflect.get(this.conn, '_supportedExtensions');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  }

  private perRecipientDsn(): void {
    const original: unknown = Reflect.get(this.conn, '_sendRcpt');
    if (typeof original !== 'function') return;
    Reflect.set(this.conn, '_sendRcpt', (recipient: string, callback: unknown) => {
      this.currentRcpt = this.rcptByAddress.get(recipient) ?? null;
      return Reflect.apply(original, this.conn, [recipient, callback]);
    });
    Reflect.set(this.conn, '_getDsnRcptToArgs', () =>
      this.currentRcpt && this.extensions().includes('DSN') ? dsnRcptArgs(this.currentRcpt) : '',
    );
  }

  /** Sends one message to all of its recipients for this host; never throws. */
  async send(message: OutboundMessage): Promise<TransactionResult> {
    const recipients = new Map<string, RecipientAnswer>();
    const failAll = (failure: DeliveryFailure, usable: boolean): TransactionResult => {
      for (const r of message.recipients) recipients.set(r.address, { ok: false, failure });
      return { recipients, hostFailure: triesNextHost(failure) ? failure : null, sessionUsable: usable && this.isUsable };
    };
    if (!this.isUsable) return failAll(LocalFailures.connection(this.label, 'connection closed'), false);
    const ext = this.extensions();
    if (message.smtputf8 && !ext.includes('SMTPUTF8')) return failAll(LocalFailures.smtpUtf8Unsupported(this.label), true);
    const eightBit = isEightBit(message);
    if (eightBit && !ext.includes('8BITMIME')) return failAll(LocalFailures.eightBitUnsupported(this.label), true);

    this.rcptByAddress = new Map(message.recipients.map((r) => [r.address, r]));
    const envelope = {
      from: message.mailFrom === '' ? false as const : message.mailFrom,
      to: message.recipients.map((r) => r.address),
      size: message.size,
      use8BitMime: eightBit,
      dsn: message.envId || message.ret ? { envid: message.envId, ret: message.ret } : undefined,
    };
    let stream: Readable;
    try {
      stream = message.open();
    } catch (err) {
      return failAll(LocalFailures.spoolUnreadable(err instanceof Error ? err.message : String(err)), true);
    }
    const limit = `transaction not completed within ${seconds(this.transactionTimeoutMs)}`;
    try {
      const info = await within(
        new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
          this.conn.send(envelope, stream, (err, result) => (err || !result ? reject(err) : resolve(result))),
        ),
        this.transactionTimeoutMs,
        limit,
      );
      const refused = new Map<string, string>();
      for (const e of info.rejectedErrors ?? []) {
        const rcpt = Reflect.get(e, 'recipient');
        if (typeof rcpt === 'string' && typeof e.response === 'string') refused.set(rcpt, e.response);
      }
      const okReply = parseReply(info.response);
      for (const r of message.recipients) {
        const response = refused.get(r.address);
        if (response !== undefined) recipients.set(r.address, { ok: false, failure: recipientRefused(response) });
        else if (info.accepted.includes(r.address)) recipients.set(r.address, { ok: true, reply: okReply });
        else recipients.set(r.address, { ok: false, failure: recipientRefused(Replies.recipientNotAcknowledged) });
      }
      // Delivered whatever the RSET does: one that takes too long only ends the session.
      await within(this.reset(), this.transactionTimeoutMs, limit).catch(() => this.giveUp());
      return { recipients, hostFailure: null, sessionUsable: this.isUsable };
    } catch (err) {
      stream.destroy();
      if (err instanceof DeadlineError) {
        this.giveUp();
        return failAll(LocalFailures.connection(this.label, err.message), false);
      }
      if (err instanceof Error && Reflect.get(err, 'code') === 'ETIMEDOUT') this.ranOutOfTime = true;
      const rejectedErrors: unknown = err instanceof Error ? Reflect.get(err, 'rejectedErrors') : undefined;
      const command: unknown = err instanceof Error ? Reflect.get(err, 'command') : undefined;
      if (command === 'RCPT TO' && Array.isArray(rejectedErrors)) {
        // Every recipient was refused: each keeps its own reply.
        for (const e of rejectedErrors) {
          if (!(e instanceof Error)) continue;
          const rcpt = Reflect.get(e, 'recipient');
          const response = Reflect.get(e, 'response');
          if (typeof rcpt === 'string' && typeof response === 'string') recipients.set(rcpt, { ok: false, failure: recipientRefused(response) });
        }
        const fallback = classifySmtpError(err, this.label);
        for (const r of message.recipients) if (!recipients.has(r.address)) recipients.set(r.address, { ok: false, failure: fallback });
        await this.reset();
        return { recipients, hostFailure: null, sessionUsable: this.isUsable };
      }
      const failure = classifySmtpError(err, this.label);
      if (failure.scope === 'message') await this.reset();
      return failAll(failure, failure.scope === 'message');
    }
  }

  /** The peer ran out of time: the session is closed, and the caller knows why (`timedOut`). */
  private giveUp(): void {
    this.ranOutOfTime = true;
    this.usable = false;
    this.conn.close();
  }

  private async reset(): Promise<void> {
    if (!this.isUsable) return;
    await new Promise<void>((resolve) =>
      this.conn.reset((err) => {
        if (err) this.usable = false;
        resolve();
      }),
    );
  }

  close(): void {
    this.usable = false;
    try {
      this.conn.quit();
    } catch {
      this.conn.close();
    }
    this.conn.close();
  }
}
