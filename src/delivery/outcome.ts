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
import { formatFailure, type DeliveryFailure, type FailureScope } from '../core/envelope.js';
import { RelaygateError } from '../core/errors.js';
import { formatReply, parseReply, Replies, type SmtpReply } from '../core/reply.js';

/** Thrown by the parts below the scheduler to carry a classified failure. */
export class DeliveryError extends RelaygateError {
  constructor(readonly failure: DeliveryFailure) {
    super('delivery-failed', formatFailure(failure), {
      details: { scope: failure.scope, permanent: failure.permanent, remote: failure.remote, reply: formatReply(failure.reply) },
    });
    this.name = 'DeliveryError';
  }
}

/** Failures on other hosts are worth trying for these scopes. */
export function triesNextHost(f: DeliveryFailure): boolean {
  return f.scope === 'connection' || f.scope === 'host';
}

function remoteFailure(scope: FailureScope, response: string | SmtpReply): DeliveryFailure {
  const r = typeof response === 'string' ? parseReply(response) : response;
  return { scope, permanent: r.code >= 500, reply: r, remote: true };
}

/** A recipient refused at RCPT TO (or per recipient by an LMTP peer). */
export function recipientRefused(response: string | SmtpReply): DeliveryFailure {
  return remoteFailure('recipient', response);
}

/** Our own verdicts: how wide each is and whether it is temporary (the texts are in core/reply.ts). */
export const LocalFailures = {
  nullMx: (domain: string): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: Replies.nullMx(domain),
  }),
  noSuchDomain: (domain: string): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: Replies.noSuchDomain(domain),
  }),
  routingLoop: (domain: string): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: Replies.routingLoop(domain),
  }),
  /** Every address of the domain's MX hosts (or its literal) is loopback, unspecified or link-local. */
  localAddressLoop: (domain: string, addresses: readonly string[]): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: Replies.localAddressLoop(domain, addresses),
  }),
  noAddress: (what: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: Replies.noAddress(what),
  }),
  dnsTemporary: (detail: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: Replies.dnsTemporary(detail),
  }),
  connection: (host: string, detail: string): DeliveryFailure => ({
    scope: 'connection', permanent: false, remote: false,
    reply: Replies.connectionFailed(host, detail),
  }),
  tlsUnavailable: (host: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: Replies.tlsUnavailable(host),
  }),
  tlsFailed: (host: string, detail: string): DeliveryFailure => ({
    scope: 'connection', permanent: false, remote: false,
    reply: Replies.tlsFailed(host, detail),
  }),
  authFailed: (host: string, detail: string): DeliveryFailure => ({
    scope: 'host', permanent: false, remote: false,
    reply: Replies.authFailed(host, detail),
  }),
  smtpUtf8Unsupported: (host: string): DeliveryFailure => ({
    scope: 'host', permanent: true, remote: false,
    reply: Replies.smtpUtf8Unsupported(host),
  }),
  eightBitUnsupported: (host: string): DeliveryFailure => ({
    scope: 'host', permanent: true, remote: false,
    reply: Replies.eightBitUnsupported(host),
  }),
  tooBig: (host: string, limit: number): DeliveryFailure => ({
    scope: 'message', permanent: true, remote: false,
    reply: Replies.tooBigForHost(host, limit),
  }),
  spoolUnreadable: (detail: string): DeliveryFailure => ({
    scope: 'message', permanent: false, remote: false,
    reply: Replies.spoolUnreadable(detail),
  }),
  /** A store delivery needs before sending (the SRS record) failed: try again later. */
  storeUnavailable: (): DeliveryFailure => ({ scope: 'message', permanent: false, remote: false, reply: Replies.temporaryFailure }),
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
