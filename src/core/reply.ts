/** An SMTP reply as a value: basic code, enhanced status code (RFC 3463) and text. */
export interface SmtpReply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

export function reply(code: number, enhanced: string, text: string): SmtpReply {
  return Object.freeze({ code, enhanced, text });
}

/** The wire form of a single-line reply: `550 5.7.64 TenantAttribution; Relay Access Denied`. */
export function formatReply(r: SmtpReply): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

export function isPositive(r: SmtpReply): boolean {
  return r.code >= 200 && r.code < 400;
}

/** The reply catalogue of relay-policy.md §8. Texts are contractual: change them only with the spec. */
export const Replies = Object.freeze({
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
  /** Our rule: a bounce to an SRS address this relay did not make, or made too long ago. */
  invalidSrsAddress: reply(550, '5.1.1', 'Unknown or expired SRS address'),
  recipientOk: reply(250, '2.1.5', 'Recipient OK'),
  senderOk: reply(250, '2.1.0', 'Sender OK'),
});

export function acceptedReply(queueId: string): SmtpReply {
  return reply(250, '2.0.0', `OK <${queueId}>`);
}
