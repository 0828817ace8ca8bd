/**
 * The envelope address as the client's bytes, before smtp-server decodes it.
 *
 * Why bytes: smtp-server turns each command line into a string with Buffer#toString(), which
 * replaces invalid UTF-8 by U+FFFD, and (with lenientAddressParsing) shows an A-label domain as its
 * U-label. From the decoded address we could neither tell a client's U+FFFD from a broken byte, nor
 * an ASCII `xn--` domain from a UTF-8 one. The parser hands every raw line to the connection's
 * `_onCommand` (looked up on the instance at each call, also after STARTTLS, when the parser is new),
 * and processes one command at a time, so the last line seen there is the one whose MAIL FROM or
 * RCPT TO hook is running.
 */
import { isUtf8 } from 'node:buffer';
import { Replies, type SmtpReply } from '../core/reply.js';
import { pathSpan } from './address-command.js';

/** The part of smtp-server's (internal) SMTPConnection that receives each raw command line. */
interface CommandReceiver {
  _onCommand(command: Buffer, callback: () => void): void;
}

/** Calls `seen` with every command line of the connection, as bytes, before smtp-server handles it. */
export function tapCommandLines(connection: object, seen: (line: Buffer) => void): void {
  const receiver = connection as CommandReceiver;
  const original = receiver._onCommand.bind(connection);
  receiver._onCommand = (command, callback) => {
    seen(command);
    original(command, callback);
  };
}

/**
 * The bytes between the angle brackets of a MAIL FROM / RCPT TO line: the path as address-command.ts
 * finds it (a quoted local part may hold `<` and `>`). No byte of a UTF-8 sequence (valid or not) is
 * `<`, `>`, `"` or a backslash, so the scan over bytes finds what the scan over characters finds.
 */
export function addressBytes(line: Buffer): Buffer | null {
  const span = pathSpan((i) => line[i] ?? -1, line.length);
  return span ? line.subarray(span.open + 1, span.close) : null;
}

/**
 * Our rule for the address bytes of a MAIL FROM or RCPT TO line: invalid UTF-8 anywhere in the
 * address is a malformed address (501 5.1.7 / 501 5.1.3); a non-ASCII address in a transaction
 * without the SMTPUTF8 parameter is refused with RFC 6531's 553 5.6.7. Null: the bytes pass.
 */
export function addressBytesReply(line: Buffer | null, role: 'sender' | 'recipient', smtputf8: boolean): SmtpReply | null {
  const address = line ? addressBytes(line) : null;
  if (!address) return null;
  if (!isUtf8(address)) return role === 'sender' ? Replies.invalidSender : Replies.invalidRecipient;
  if (!smtputf8 && address.some((b) => b >= 0x80)) return Replies.smtputf8Required;
  return null;
}
