/**
 * The ONE place that decides how wide a delivery failure is and whether it is temporary
 * (Postfix's rule: connection, host, message, recipient). Everything that can go wrong on the way
 * out (DNS, TCP, TLS, the peer's replies, our own refusals) is turned into a DeliveryFailure here.
 *
 * - connection: we could not talk to the host (refused, dropped, timed out, TLS broke): try the next host.
 * - host: the host talked but will not take mail from us now (greeting/EHLO refusal, no STARTTLS where
 *   required, an extension we need is missing, AUTH failed): try the next host.
 * - message: the host refused this message (MAIL FROM, DATA, end of data): other hosts would say the same.
 * - recipient: the host refused one recipient (RCPT TO).
 */
import { reply, type SmtpReply } from '../core/reply.js';

export type FailureScope = 'connection' | 'host' | 'message' | 'recipient';

export interface DeliveryFailure {
  readonly scope: FailureScope;
  readonly permanent: boolean;
  /** The reply to record and to quote in a DSN (the peer's own when it gave one). */
  readonly reply: SmtpReply;
  /** True when the reply came from the remote host (Diagnostic-Code: smtp; ...). */
  readonly remote: boolean;
}

/** Thrown by the parts below the scheduler to carry a classified failure. */
export class DeliveryError extends Error {
  constructor(readonly failure: DeliveryFailure) {
    super(formatFailure(failure));
    this.name = 'DeliveryError';
  }
}

export function formatFailure(f: DeliveryFailure): string {
  return `${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`;
}

/** Failures on other hosts are worth trying for these scopes. */
export function triesNextHost(f: DeliveryFailure): boolean {
  return f.scope === 'connection' || f.scope === 'host';
}

/** Parses "550 5.1.1 <x@y>: user unknown" (multi-line replies joined) into a reply value. */
export function parseRemoteReply(response: string): SmtpReply {
  const lines = response.split(/\r?\n/).filter((l) => l.length > 0);
  const first = lines[0] ?? '';
  const m = /^(\d{3})[ -]?(?:([245]\.\d{1,3}\.\d{1,3})\s+)?(.*)$/.exec(first);
  if (!m) return reply(451, '4.4.0', response.trim() || 'no reply');
  const code = Number(m[1]);
  const texts = [m[3] ?? '', ...lines.slice(1).map((l) => l.replace(/^\d{3}[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?/, ''))];
  const enhanced = m[2] ?? defaultEnhanced(code);
  return reply(code, enhanced, texts.filter((t) => t.length > 0).join(' '));
}

function defaultEnhanced(code: number): string {
  const cls = Math.floor(code / 100);
  return cls === 2 ? '2.0.0' : cls === 4 ? '4.0.0' : '5.0.0';
}

function remoteFailure(scope: FailureScope, response: string): DeliveryFailure {
  const r = parseRemoteReply(response);
  return { scope, permanent: r.code >= 500, reply: r, remote: true };
}

/** A recipient refused at RCPT TO (or per recipient by an LMTP peer). */
export function recipientRefused(response: string): DeliveryFailure {
  return remoteFailure('recipient', response);
}

/** Our own verdicts, with texts that say what happened. */
export const LocalFailures = {
  nullMx: (domain: string): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: reply(556, '5.1.10', `Recipient address has null MX: ${domain} does not accept mail (RFC 7505)`),
  }),
  noSuchDomain: (domain: string): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: reply(550, '5.1.2', `Host or domain name not found: ${domain} (NXDOMAIN)`),
  }),
  routingLoop: (domain: string): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: reply(554, '5.4.6', `Mail for ${domain} loops back to myself (this relay is its best MX)`),
  }),
  noAddress: (what: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: reply(451, '4.4.4', `No address found for ${what}`),
  }),
  dnsTemporary: (detail: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: reply(451, '4.4.3', detail),
  }),
  connection: (host: string, detail: string): DeliveryFailure => ({
    scope: 'connection', permanent: false, remote: false,
    reply: reply(451, '4.4.1', `Connection to ${host} failed: ${detail}`),
  }),
  tlsUnavailable: (host: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: reply(451, '4.7.10', `TLS is required by the route but ${host} does not offer STARTTLS`),
  }),
  tlsFailed: (host: string, detail: string): DeliveryFailure => ({
    scope: 'connection', permanent: false, remote: false,
    reply: reply(451, '4.7.5', `TLS with ${host} failed: ${detail}`),
  }),
  authFailed: (host: string, detail: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: reply(451, '4.7.8', `Authentication to ${host} failed: ${detail}`),
  }),
  smtpUtf8Unsupported: (host: string): DeliveryFailure => ({
    scope: 'host', permanent: true, remote: false,
    reply: reply(554, '5.6.7', `The message needs SMTPUTF8 but ${host} does not support it; not sent rather than altered`),
  }),
  eightBitUnsupported: (host: string): DeliveryFailure => ({
    scope: 'host', permanent: true, remote: false,
    reply: reply(554, '5.6.3', `The message has an 8-bit body but ${host} does not support 8BITMIME; not sent rather than altered`),
  }),
  tooBig: (host: string, limit: number): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: reply(552, '5.3.4', `Message size exceeds the limit of ${host} (${limit} bytes)`),
  }),
  spoolUnreadable: (detail: string): DeliveryFailure => ({
    scope: 'message', permanent: false, remote: false,
    reply: reply(451, '4.3.0', `Message body could not be read: ${detail}`),
  }),
  expired: (last: string | null, hours: number): DeliveryFailure => ({
    scope: 'recipient', permanent: true, remote: false,
    reply: reply(550, '5.4.7', `Delivery time expired after ${hours} hours${last ? `; last error: ${last}` : ''}`),
  }),
} as const;

interface SmtpErrorShape {
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  message: string;
}

function asSmtpError(err: unknown): SmtpErrorShape {
  if (!(err instanceof Error)) return { message: String(err) };
  const pick = (k: string): unknown => (k in err ? (err as unknown as Record<string, unknown>)[k] : undefined);
  const str = (k: string): string | undefined => (typeof pick(k) === 'string' ? (pick(k) as string) : undefined);
  const num = pick('responseCode');
  return {
    message: err.message,
    code: str('code'),
    originalCode: str('originalCode'),
    response: str('response'),
    responseCode: typeof num === 'number' ? num : undefined,
    command: str('command'),
  };
}

/** Classifies an error from nodemailer's SMTPConnection (connect, STARTTLS, login or send). */
export function classifySmtpError(err: unknown, host: string): DeliveryFailure {
  const e = asSmtpError(err);
  const command = (e.command ?? '').toUpperCase();
  if (e.code === 'ETLS') {
    if (command === 'STARTTLS') return LocalFailures.tlsUnavailable(host);
    return LocalFailures.tlsFailed(host, e.message);
  }
  if (e.code === 'EAUTH' || command.startsWith('AUTH')) return LocalFailures.authFailed(host, e.response ?? e.message);
  if (e.response && e.responseCode) {
    if (command === 'CONN' || command === 'EHLO' || command === 'HELO' || command === 'GREETING' || command === 'STARTTLS') {
      return remoteFailure('host', e.response);
    }
    if (command === 'MAIL FROM' || command === 'DATA' || command === 'RCPT TO') return remoteFailure('message', e.response);
    return remoteFailure('message', e.response);
  }
  if (e.code === 'EMESSAGE' && /size larger than allowed (\d+)/.test(e.message)) {
    return LocalFailures.tooBig(host, Number(/size larger than allowed (\d+)/.exec(e.message)?.[1] ?? 0));
  }
  if (e.code === 'ESTREAM') return LocalFailures.spoolUnreadable(e.message);
  const detail = e.originalCode ? `${e.originalCode} ${e.message}` : e.message;
  // Certificate and handshake errors arrive as connection errors carrying Node's TLS code.
  if (/^(ERR_TLS|ERR_SSL)|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(e.originalCode ?? '')) {
    return LocalFailures.tlsFailed(host, detail);
  }
  return LocalFailures.connection(host, detail);
}
