/**
 * The path of a MAIL FROM / RCPT TO command, found the way RFC 5321 writes it: a quoted local part
 * may hold spaces, `<` and `>` (`RCPT TO:<"john doe"@contoso.com>`, `<"a<b>c"@contoso.com>`).
 *
 * Why: smtp-server splits the command's argument on whitespace and wants the first word to be
 * `<...>` with no `<` or `>` inside, even with lenientAddressParsing, so such valid addresses got
 * `501` before the policy engine saw them, while `relaygate check` judged them (relay-policy.md §5
 * refuses a quoted local part only when it holds `@`, `%` or `!`). For a command whose path holds a
 * quoted local part, the library now parses a stand-in (the quoted string replaced by a plain word:
 * its checks of the domain and of the parameters still run) and the hooks get the path as written.
 * Every other command is the library's alone.
 */

/** Where the path's `<` and `>` are in a command line, given as its character (or byte) codes. */
export interface PathSpan {
  open: number;
  close: number;
  /** The quoted local part, `"` to `"`, when the mailbox starts with one (after a source route). */
  quoted: { start: number; end: number } | null;
}

const LT = 0x3c;
const GT = 0x3e;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * The path of `NAME:<path> params`: from the first `<` after the colon (blanks allowed before it)
 * to the first `>` outside a quoted string. Null when there is none: the library decides then.
 */
export function pathSpan(codeAt: (i: number) => number, length: number): PathSpan | null {
  let i = 0;
  while (i < length && codeAt(i) !== COLON) i++;
  i++;
  while (i < length && (codeAt(i) === 0x20 || codeAt(i) === 0x09)) i++;
  if (i >= length || codeAt(i) !== LT) return null;
  const open = i;
  let quoted: PathSpan['quoted'] = null;
  let inQuote = false;
  let quoteStart = -1;
  // The mailbox starts after a source route `@a,@b:` (RFC 5321 §4.1.2), if there is one.
  let mailboxStart = open + 1;
  if (codeAt(mailboxStart) === 0x40) {
    let j = mailboxStart;
    while (j < length && codeAt(j) !== COLON && codeAt(j) !== GT) j++;
    if (codeAt(j) === COLON) mailboxStart = j + 1;
  }
  for (i = open + 1; i < length; i++) {
    const c = codeAt(i);
    if (inQuote) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) {
        inQuote = false;
        if (quoteStart === mailboxStart) quoted = { start: quoteStart, end: i };
      }
    } else if (c === QUOTE) {
      inQuote = true;
      quoteStart = i;
    } else if (c === GT) {
      return { open, close: i, quoted };
    }
  }
  return null;
}

/** A quoted string's content (between the quotes) that RFC 5321/6531 allows: no controls, no invisible characters. */
function validQuotedContent(content: string): boolean {
  for (let i = 0; i < content.length; i++) {
    const c = content.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = content.charCodeAt(++i);
      if (!(next >= 0x20 && next <= 0x7e)) return false;
    } else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x200b || c === 0x2060 || c === 0xfeff) {
      return false;
    }
  }
  return true;
}

type ParseAddressCommand = (name: string, command: unknown) => false | { address: string; args: unknown };

/** The part of smtp-server's (internal) SMTPConnection that parses MAIL FROM and RCPT TO. */
interface AddressCommandParser {
  _parseAddressCommand: ParseAddressCommand;
}

/** Makes the connection's MAIL FROM and RCPT TO accept paths with a quoted local part, as written. */
export function parseQuotedLocalParts(connection: object): void {
  const parser = connection as AddressCommandParser;
  const original = parser._parseAddressCommand.bind(connection) as ParseAddressCommand;
  parser._parseAddressCommand = (name, command) => {
    const text = String(command ?? '');
    const span = pathSpan((i) => text.charCodeAt(i), text.length);
    if (!span?.quoted) return original(name, command);
    const { start, end } = span.quoted;
    if (!validQuotedContent(text.slice(start + 1, end))) return false;
    const parsed = original(name, `${text.slice(0, start)}q${text.slice(end + 1)}`);
    if (!parsed) return parsed;
    return { ...parsed, address: text.slice(span.open + 1, span.close) };
  };
}
