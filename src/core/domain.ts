import { domainToASCII } from 'node:url';

/**
 * A domain in canonical form: A-label (punycode), lower case, no trailing dot.
 * Branded so that un-normalised strings cannot be compared with canonical ones by accident.
 */
export type Domain = string & { readonly __brand: 'Domain' };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Canonicalises a domain name; returns null when it is not a valid host name.
 * Comparison rules of relay-policy.md §1: case-insensitive, one trailing dot ignored, A-label form.
 */
export function normalizeDomain(input: string): Domain | null {
  let s = input.trim();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s.length === 0 || s.length > 253) return null;
  // domainToASCII is the URL host parser: it would cut the name at `/`, `?`, `#` or `\` and decode
  // `%41`, turning a malformed domain into another, valid one. Only letters, digits, hyphens and
  // dots may be ASCII in an internationalized name.
  if (!/^[\x00-\x7f]*$/.test(s) && /[^\x80-\uffffa-z0-9.-]/i.test(s)) return null;
  const ascii = /^[\x00-\x7f]*$/.test(s) ? s.toLowerCase() : domainToASCII(s.toLowerCase());
  if (!ascii) return null;
  const labels = ascii.split('.');
  if (labels.some((l) => !LABEL.test(l))) return null;
  return ascii as Domain;
}

/** True when `child` equals `parent` or lies under it at a label boundary. Both must be canonical. */
export function isSameOrSubdomain(child: Domain, parent: Domain): boolean {
  return child === parent || child.endsWith('.' + parent);
}

/** The parent domains of d, nearest first, excluding d itself: a.b.c → [b.c, c]. */
export function parentDomains(d: Domain): Domain[] {
  const out: Domain[] = [];
  let rest: string = d;
  for (let i = rest.indexOf('.'); i !== -1; i = rest.indexOf('.')) {
    rest = rest.slice(i + 1);
    out.push(rest as Domain);
  }
  return out;
}

/** Code-point order: deterministic whatever the locale, and far cheaper than localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
