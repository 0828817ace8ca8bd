/**
 * Our rule (relay-policy.md §4, "Bounces to SRS addresses"): a bounce (null sender, RFC 5321
 * §4.5.5) to an SRS address of this relay goes to the original sender only when the address
 * verifies (HMAC and age), this relay recorded relaying a message with exactly that rewritten
 * sender, and that message has returns left (two per outside recipient: a failure and a delay
 * notice each). The HMAC alone proves that we minted the address, not that its sender ever sent
 * anything through us: without the record, anyone who has read an SRS address could send any
 * content to the victim it names. Accepted returns are also limited per source address. Mail with
 * a sender to an SRS address is judged by the ordinary rules (decide-recipient.ts), so an SRS
 * address never relays ordinary mail.
 */
import { domainPartOf } from '../core/address.js';
import { Replies } from '../core/reply.js';
import type { RecipientDecision, SrsReturnFact } from './types.js';

/** Returns a relayed message allows per outside recipient: a failure DSN and a delay DSN. */
export const SRS_RETURNS_PER_OUTSIDE_RECIPIENT = 2;

/** At most `perSource` bounces to SRS addresses are accepted from one source address per window. */
export const SRS_RETURN_RATE = Object.freeze({ perSource: 30, windowMs: 60_000 });

/**
 * The decision for a null-sender RCPT to an SRS address of ours. `refused` carries what every
 * refusal shares (no tenant, no relay, the rule set in force); the caller builds it.
 */
export function decideSrsReturn(address: string, fact: SrsReturnFact, ip: string, refused: RecipientDecision): RecipientDecision {
  const refuse = (explanation: string, reply = Replies.invalidSrsAddress): RecipientDecision => ({
    ...refused,
    domain: null,
    reply,
    rule: 'srs-return',
    explanation,
  });
  if (fact.original === null) return refuse(`${address} looks like an SRS address of this relay, but its signature or age does not verify.`);
  if (!fact.recorded) {
    return refuse(`${address} verifies, but this relay has no record of relaying a message with that sender within the SRS age: a bounce to it would be a reflection to ${fact.original}.`);
  }
  if (fact.returnsLeft < 1) {
    return refuse(`${address} was minted for a relayed message whose returns are used up (${SRS_RETURNS_PER_OUTSIDE_RECIPIENT} per outside recipient).`);
  }
  const rate = `${fact.recentFromSource} bounce(s) to SRS addresses from ${ip} in the last ${SRS_RETURN_RATE.windowMs / 1000} s, limit ${SRS_RETURN_RATE.perSource}`;
  if (fact.recentFromSource >= SRS_RETURN_RATE.perSource) {
    return refuse(`Bounce to ${address} deferred: ${rate}.`, Replies.srsReturnsRateLimited);
  }
  return {
    ...refused,
    domain: domainPartOf(fact.original).toLowerCase(),
    verdict: 'inbound',
    reply: Replies.recipientOk,
    rule: 'srs-return',
    currentVerdict: 'inbound',
    legacyVerdict: 'inbound',
    explanation: `Bounce to an SRS address this relay made for a relayed message: returned to the original sender ${fact.original} (${fact.returnsLeft} return(s) left before this one; ${rate}).`,
  };
}
