/**
 * Delivery status notifications (RFC 3464): multipart/report; report-type=delivery-status with a
 * human-readable part, the machine-readable message/delivery-status part, and the original message
 * (RET=FULL, or a failure DSN without RET) or its headers (RET=HDRS, a delayed DSN without RET, or
 * a message larger than `maxReturnedBytes`). Which recipients get one (NOTIFY, null sender) is
 * decided by `dsnWanted`; the DSN itself is sent with the null sender by the queue.
 */
import { randomBytes } from 'node:crypto';
import type { SmtpReply } from '../core/reply.js';

export type DsnKind = 'failure' | 'delay';

export interface DsnRecipient {
  address: string;
  /** ORCPT as given in RCPT TO ("rfc822;user@example"), or null. */
  orcpt: string | null;
  reply: SmtpReply;
  /** The reply came from this remote host (Remote-MTA / Diagnostic-Code smtp). */
  remoteMta: string | null;
  lastAttemptAt: number | null;
}

export interface DsnInput {
  kind: DsnKind;
  reportingMta: string;
  /** The original message's queue id (used in the text for the sender's help desk). */
  queueId: string;
  originalSender: string;
  envId: string | null;
  ret: 'FULL' | 'HDRS' | null;
  arrivalDate: number;
  /** Delayed DSNs: until when we keep trying. */
  willRetryUntil: number | null;
  recipients: DsnRecipient[];
  /** The original message as spooled (headers and body). */
  original: Buffer;
  now: number;
  maxReturnedBytes?: number;
}

/** RFC 3461 §4.1: NOTIFY absent → FAILURE (and DELAY at our discretion: we send it), NEVER → none. */
export function dsnWanted(kind: DsnKind, notify: string | null): boolean {
  if (notify === null || notify.trim() === '') return true;
  const values = notify.toUpperCase().split(',').map((v) => v.trim());
  if (values.includes('NEVER')) return false;
  return values.includes(kind === 'failure' ? 'FAILURE' : 'DELAY');
}

/** RFC 5322 date-time in UTC. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function headersOf(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  if (end >= 0) return message.subarray(0, end + 2);
  const lf = message.indexOf('\n\n');
  return lf >= 0 ? message.subarray(0, lf + 1) : message;
}

function hasEightBit(b: Buffer): boolean {
  for (const byte of b) if (byte > 127) return true;
  return false;
}

function statusOf(r: SmtpReply, kind: DsnKind): string {
  if (/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.enhanced) && r.enhanced[0] !== '2') return r.enhanced;
  return kind === 'failure' ? '5.0.0' : '4.0.0';
}

/** One-line values: DSN fields must not carry CR/LF from a remote reply. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim();
}

function deliveryStatus(input: DsnInput): string {
  const lines: string[] = [];
  if (input.envId) lines.push(`Original-Envelope-Id: ${oneLine(input.envId)}`);
  lines.push(`Reporting-MTA: dns; ${input.reportingMta}`);
  lines.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  for (const r of input.recipients) {
    lines.push('');
    if (r.orcpt) lines.push(`Original-Recipient: ${oneLine(r.orcpt.includes(';') ? r.orcpt : 'rfc822;' + r.orcpt)}`);
    lines.push(`Final-Recipient: rfc822; ${r.address}`);
    lines.push(`Action: ${input.kind === 'failure' ? 'failed' : 'delayed'}`);
    lines.push(`Status: ${statusOf(r.reply, input.kind)}`);
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${r.remoteMta}`);
    const diagnostic = `${r.reply.code} ${r.reply.enhanced} ${oneLine(r.reply.text)}`;
    lines.push(r.remoteMta ? `Diagnostic-Code: smtp; ${diagnostic}` : `Diagnostic-Code: X-Relaygate; ${diagnostic}`);
    if (r.lastAttemptAt !== null) lines.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`);
    if (input.kind === 'delay' && input.willRetryUntil !== null) lines.push(`Will-Retry-Until: ${rfc5322Date(input.willRetryUntil)}`);
  }
  return lines.join('\r\n') + '\r\n';
}

function humanText(input: DsnInput): string {
  const list = input.recipients
    .map((r) => `  <${r.address}>: ${r.reply.code} ${r.reply.enhanced} ${oneLine(r.reply.text)}`)
    .join('\r\n');
  const intro =
    input.kind === 'failure'
      ? 'Your message could not be delivered to the following recipients. This is a permanent error; the\r\nrelay will not try again.'
      : `Your message has not yet been delivered to the following recipients. The relay is still trying\r\nand will give up at ${input.willRetryUntil !== null ? rfc5322Date(input.willRetryUntil) : 'its expiry time'}. You do not need to resend it.`;
  return `This is the mail system at ${input.reportingMta}.\r\n\r\n${intro}\r\n\r\n${list}\r\n\r\nQueue id: ${input.queueId}\r\n`;
}

/** Builds the DSN message (CRLF line ends) addressed to the original sender. */
export function buildDsn(input: DsnInput): Buffer {
  const boundary = `=_relaygate_${randomBytes(12).toString('hex')}`;
  const returnFull = input.kind === 'failure' ? input.ret !== 'HDRS' : input.ret === 'FULL';
  const maxBytes = input.maxReturnedBytes ?? 10 * 1024 * 1024;
  const full = returnFull && input.original.length <= maxBytes;
  const returned = full ? input.original : headersOf(input.original);
  const text = humanText(input);
  const subject = input.kind === 'failure' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.originalSender}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.queueId}.${randomBytes(6).toString('hex')}.dsn@${input.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
  ].join('\r\n');
  const textEncoding = /[^\x00-\x7f]/.test(text) ? '8bit' : '7bit';
  const parts = [
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${textEncoding}\r\nContent-Description: Notification\r\n\r\n${text}`,
    `--${boundary}\r\nContent-Type: message/delivery-status\r\nContent-Description: Delivery report\r\n\r\n${deliveryStatus(input)}`,
    `--${boundary}\r\nContent-Type: ${full ? 'message/rfc822' : 'text/rfc822-headers'}\r\nContent-Transfer-Encoding: ${hasEightBit(returned) ? '8bit' : '7bit'}\r\nContent-Description: ${full ? 'Undelivered Message' : 'Undelivered Message Headers'}\r\n\r\n`,
  ];
  const tail = `${returned.length > 0 && returned[returned.length - 1] === 0x0a ? '' : '\r\n'}--${boundary}--\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n' + parts.join('\r\n')), returned, Buffer.from(tail)]);
}
