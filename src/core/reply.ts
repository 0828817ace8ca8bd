/**
 * Every SMTP reply relaygate sends or records, in one catalogue (`Replies`), and the reply value
 * they are made of. Nothing outside this module builds a reply (reply-catalogue.test.ts checks it):
 * a new reply is a new entry here, so every text a client or a DSN reader sees can be read in one
 * place. Client-visible texts stay generic: the tenant, a limit or a stored detail go to the log and
 * the decision record, never into the reply.
 */

/** An SMTP reply as a value: basic code, enhanced status code (RFC 3463) and text. */
export interface SmtpReply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

/** Builds a reply value. Only this module and tests call it: a reply relaygate sends is an entry of `Replies`. */
export function reply(code: number, enhanced: string, text: string): SmtpReply {
  return Object.freeze({ code, enhanced, text });
}

/** The wire form of a single-line reply: `550 5.7.64 TenantAttribution; Relay Access Denied`. */
export function formatReply(r: SmtpReply): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

/**
 * A reply another server sent us ("550 5.1.1 <x@y>: user unknown", multi-line replies joined), or
 * one we recorded in that form, as a value. Without an enhanced code the class's x.0.0 is assumed.
 */
export function parseReply(response: string): SmtpReply {
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

export const Replies = Object.freeze({
  // relay-policy.md §8. These texts are contractual: change them only with the spec.
  relayDenied: reply(550, '5.7.64', 'TenantAttribution; Relay Access Denied'),
  partnerRestriction: reply(
    550,
    '5.7.51',
    "TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set",
  ),
  directSendDenied: reply(
    550,
    '5.7.68',
    'TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources',
  ),
  tlsRequired: reply(530, '5.7.0', 'Must issue a STARTTLS command first'),
  messageTooBig: reply(552, '5.3.4', 'Message size exceeds fixed maximum message size'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients'),
  invalidRecipient: reply(501, '5.1.3', 'Invalid recipient address'),
  bareLineEnding: reply(550, '5.6.11', 'Bare CR or LF not allowed'),
  /** Our rule: no BINARYMIME is offered, so a NUL in DATA is never legitimate (then close). */
  nulCharacter: reply(550, '5.6.0', 'NUL characters not allowed'),
  temporaryFailure: reply(451, '4.3.0', 'Temporary server error, please try again later'),
  /** RFC 3463 X.3.1 "Mail system full": the spool's or the database's disk has no space left. */
  insufficientStorage: reply(452, '4.3.1', 'Insufficient system storage'),
  accepted: (queueId: string): SmtpReply => reply(250, '2.0.0', `OK <${queueId}>`),

  // The session's replies that the contract leaves to us.
  invalidSender: reply(501, '5.1.7', 'Invalid sender address'),
  /**
   * Address hygiene: a recipient `user@[192.0.2.1]` while limits.allowAddressLiterals is off. 5.1.2
   * (bad destination system), not 5.1.3: the syntax is valid RFC 5321, the destination is refused.
   */
  addressLiteralRefused: reply(550, '5.1.2', 'Address literal recipients not accepted'),
  /** RFC 6531 (X.6.7 "Non-ASCII addresses not permitted for that sender/recipient"): MAIL FROM lacked SMTPUTF8. */
  smtputf8Required: reply(553, '5.6.7', 'Non-ASCII address not permitted without SMTPUTF8'),
  /** A bounce to an SRS address this relay did not make, or made too long ago. */
  invalidSrsAddress: reply(550, '5.1.1', 'Unknown or expired SRS address'),
  /** Our rule: too many bounces to SRS addresses from one source address in a short time (try later). */
  srsReturnsRateLimited: reply(450, '4.7.1', 'Too many bounces from this address, try again later'),
  recipientOk: reply(250, '2.1.5', 'Recipient OK'),
  senderOk: reply(250, '2.1.0', 'Sender OK'),
  /** A tenant's daily recipient quota is used up. Which tenant and which limit go to the log only. */
  quotaExceeded: reply(550, '5.7.232', 'Daily recipient quota reached; it resets at 00:00 UTC'),
  tooManyConnections: reply(421, '4.7.0', 'Too many connections, try again later'),
  tooManyConnectionsFromIp: reply(421, '4.7.0', 'Too many connections from your address, try again later'),
  /** Sources in no connector's IP range, per network (limits.maxConnectionsPerNetwork). */
  tooManyConnectionsFromNetwork: reply(421, '4.7.0', 'Too many connections from your network, try again later'),
  /** A command not completed within its deadline, however slowly its bytes came. */
  commandTimeout: reply(421, '4.4.2', 'Command timeout, closing connection'),
  /** Message data not completed within the deadline of the DATA phase. */
  dataTimeout: reply(421, '4.4.2', 'Message data timeout, closing connection'),
  tooManyErrors: reply(421, '4.7.0', 'Too many errors, closing connection'),
  tooManyUnknownCommands: reply(421, '4.7.0', 'Too many unrecognized commands, closing connection'),
  pipelinedAfterStartTls: reply(421, '4.7.0', 'Commands sent before the TLS handshake completed, closing connection'),
  proxyRefused: reply(421, '4.7.0', 'PROXY protocol not accepted from this address'),
  badProxyHeader: reply(421, '4.7.0', 'Invalid PROXY protocol header'),
  headerTooLarge: reply(552, '5.3.4', 'Message header size exceeds limit'),
  /** More Received: fields than limits.maxHops (Postfix's hopcount_limit and its reply): a mail loop. */
  tooManyHops: reply(554, '5.4.6', 'Too many hops'),
  /** DATA with no transaction of ours open (smtp-server itself refuses DATA before MAIL or RCPT). */
  noTransaction: reply(503, '5.5.1', 'no transaction'),

  // Delivery's own verdicts on the way out: recorded per recipient, quoted in DSNs and `queue show`
  // (read by the sender's administrator, so they say what happened).
  nullMx: (domain: string): SmtpReply => reply(556, '5.1.10', `Recipient address has null MX: ${domain} does not accept mail (RFC 7505)`),
  noSuchDomain: (domain: string): SmtpReply => reply(550, '5.1.2', `Host or domain name not found: ${domain} (NXDOMAIN)`),
  routingLoop: (domain: string): SmtpReply => reply(554, '5.4.6', `Mail for ${domain} loops back to myself (this relay is its best MX)`),
  localAddressLoop: (domain: string, addresses: readonly string[]): SmtpReply =>
    reply(554, '5.4.6', `Mail for ${domain} loops back to myself: its mail servers resolve only to local addresses (${addresses.join(', ')})`),
  noAddress: (what: string): SmtpReply => reply(451, '4.4.4', `No address found for ${what}`),
  dnsTemporary: (detail: string): SmtpReply => reply(451, '4.4.3', detail),
  connectionFailed: (host: string, detail: string): SmtpReply => reply(451, '4.4.1', `Connection to ${host} failed: ${detail}`),
  tlsUnavailable: (host: string): SmtpReply => reply(451, '4.7.10', `TLS is required by the route but ${host} does not offer STARTTLS`),
  tlsFailed: (host: string, detail: string): SmtpReply => reply(451, '4.7.5', `TLS with ${host} failed: ${detail}`),
  authFailed: (host: string, detail: string): SmtpReply => reply(451, '4.7.8', `Authentication to ${host} failed: ${detail}`),
  smtpUtf8Unsupported: (host: string): SmtpReply =>
    reply(554, '5.6.7', `The message needs SMTPUTF8 but ${host} does not support it; not sent rather than altered`),
  eightBitUnsupported: (host: string): SmtpReply =>
    reply(554, '5.6.3', `The message has an 8-bit body but ${host} does not support 8BITMIME; not sent rather than altered`),
  tooBigForHost: (host: string, limit: number): SmtpReply => reply(552, '5.3.4', `Message size exceeds the limit of ${host} (${limit} bytes)`),
  spoolUnreadable: (detail: string): SmtpReply => reply(451, '4.3.0', `Message body could not be read: ${detail}`),
  expired: (last: string | null, hours: number): SmtpReply =>
    reply(550, '5.4.7', `Delivery time expired after ${hours} ${hours === 1 ? 'hour' : 'hours'}${last ? `; last error: ${last}` : ''}`),
  /** The peer ended DATA without a verdict for this recipient (recorded as the peer's answer). */
  recipientNotAcknowledged: reply(451, '4.3.0', 'recipient not acknowledged'),
  /** A failed recipient whose store row holds no reply. */
  noReplyRecorded: reply(451, '4.0.0', 'no reply recorded'),
  /** `relaygate queue bounce`. */
  operatorBounce: reply(554, '5.0.0', 'Message returned by the relay operator'),
});
