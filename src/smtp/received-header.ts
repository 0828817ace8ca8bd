import { normalizeDomain } from '../core/domain.js';
import type { TlsInfo } from './connection-context.js';

export interface ReceivedFacts {
  helo: string | null;
  clientIp: string;
  /** The TCP peer when it differs from the client (a trusted PROXY). */
  proxyIp: string | null;
  hostname: string;
  /** RFC 3848 protocol: ESMTP, ESMTPS, UTF8SMTPS, ... */
  protocol: string;
  tls: TlsInfo | null;
  queueId: string;
  /** Named in `for <...>` only when the message has exactly one recipient. */
  recipients: string[];
  at: Date;
}

/**
 * The Received header (RFC 5321 §4.4) with the TLS version and cipher and the queue id, folded. A
 * client certificate presented in the handshake is named in a comment of its own line, in Postfix's
 * form: `(Client CN "mail.contoso.com", Issuer "Contoso CA" (verified OK))`, or `(not verified)`.
 */
export function receivedHeader(f: ReceivedFacts): string {
  const from = `from ${heloText(f.helo)} ([${f.clientIp}]${f.proxyIp ? ` via proxy [${f.proxyIp}]` : ''})`;
  const tls = f.tls ? ` (using ${sanitize(f.tls.protocol)} with cipher ${sanitize(f.tls.cipher)})` : '';
  const by = `by ${f.hostname} (relaygate) with ${f.protocol}${tls}`;
  const cert = f.tls?.clientCertificate;
  const certLine = cert
    ? `\r\n\t(Client CN "${commentText(cert.name ?? '')}", Issuer "${commentText(cert.issuer)}" (${cert.verified ? 'verified OK' : 'not verified'}))`
    : '';
  const forClause = f.recipients.length === 1 ? ` for <${sanitize(f.recipients[0]!)}>` : '';
  return `Received: ${from}\r\n\t${by}${certLine}\r\n\tid ${f.queueId}${forClause};\r\n\t${rfc5322Date(f.at)}`;
}

/**
 * Certificate text (the client chooses it) inside a comment: printable ASCII only, and the
 * characters that would end or nest the comment, or a quoted name in it, escaped (RFC 5322 quoted-pair).
 */
function commentText(text: string): string {
  return text
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 255)
    .replace(/[\\()"]/g, (c) => `\\${c}`);
}

/** `Sun, 22 Nov 2026 12:41:18 +0000`. */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * The HELO name as the client gave it, in ASCII whatever the transaction: an IDN as its A-label,
 * other non-ASCII text (smtp-server's U+FFFD for bytes that are not UTF-8) as `?`.
 */
function heloText(helo: string | null): string {
  if (helo === null) return 'unknown';
  if (/^[\x00-\x7f]*$/.test(helo)) return sanitize(helo);
  return normalizeDomain(helo) ?? sanitize(helo.replace(/[^\x00-\x7f]/g, '?'));
}

/** Client-supplied text in a header: no control characters, no way to end the header early. */
function sanitize(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 255);
}
