/**
 * A bounce coming back to an SRS address: the SMTP front end asks for RCPT TO addresses in an SRS
 * rewrite domain. The answer is a fact for the policy engine, which decides.
 */
import { domainOf } from '../core/address.js';
import { normalizeDomain } from '../core/domain.js';
import { SrsError, type Srs } from './srs.js';

/**
 * The original sender for an SRS address we made (for SRS1, the previous forwarder's SRS0
 * address); an error when it is ours but forged or expired; null when it is not one of ours.
 */
export function reverseSrsAddress(srs: Srs, ourDomains: readonly string[], address: string): { address: string } | { error: string } | null {
  if (!srs.isSrs(address)) return null;
  const domain = domainOf(address);
  const ours = ourDomains.map((d) => normalizeDomain(d));
  if (!domain || !ours.includes(domain)) return null;
  try {
    return { address: srs.reverse(address) };
  } catch (err) {
    if (err instanceof SrsError) return { error: err.message };
    throw err;
  }
}
