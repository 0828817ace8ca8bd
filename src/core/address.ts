/**
 * The one place an envelope address is split into local part and domain. The domain is what
 * follows the LAST `@` (a quoted local part may hold one), as chasquid's envelope package and
 * Postfix do. These helpers only split; the hygiene rules that refuse smuggling forms are the
 * policy's (policy/address.ts builds on `splitAddress`).
 */
import { normalizeDomain, type Domain } from './domain.js';

export interface AddressParts {
  /** As written, case kept. */
  readonly local: string;
  /** As written: not normalised (see `domainOf` for the canonical form). */
  readonly domain: string;
}

/** Local part and domain around the last `@`; null when the address has no `@`. */
export function splitAddress(address: string): AddressParts | null {
  const at = address.lastIndexOf('@');
  return at === -1 ? null : { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** The local part; the whole address when it has no `@` (an unqualified name). */
export function localPartOf(address: string): string {
  return splitAddress(address)?.local ?? address;
}

/** The domain as written; '' when the address has no `@`. */
export function domainPartOf(address: string): string {
  return splitAddress(address)?.domain ?? '';
}

/** The canonical domain (A-label, lower case, no trailing dot); null without `@` or when it is not a host name. */
export function domainOf(address: string): Domain | null {
  const parts = splitAddress(address);
  return parts ? normalizeDomain(parts.domain) : null;
}
