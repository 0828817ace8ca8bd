import { isSameOrSubdomain, normalizeDomain, parentDomains, type Domain } from '../core/domain.js';

/**
 * Connector certificate names (relay-policy.md §1): a host name, or `*.parent`, which matches
 * `parent` and every subdomain of it at any depth. A `*` anywhere else is invalid.
 */
export type CertificateNamePattern = { kind: 'exact'; name: string } | { kind: 'wildcard'; parent: Domain };

export function parseCertificateNamePattern(text: string): CertificateNamePattern | null {
  const lower = text.trim().toLowerCase().replace(/\.$/, '');
  if (lower.startsWith('*.')) {
    const parent = normalizeDomain(lower.slice(2));
    return parent && !parent.includes('*') ? { kind: 'wildcard', parent } : null;
  }
  if (lower.includes('*')) return null;
  const name = normalizeDomain(lower);
  return name ? { kind: 'exact', name } : null;
}

/** Does a certificate name presented by a client match the connector's pattern? */
export function certificateNameMatches(pattern: CertificateNamePattern, presented: string): boolean {
  const name = presented.toLowerCase().replace(/\.$/, '');
  if (pattern.kind === 'exact') return name === pattern.name;
  // A wildcard certificate `*.p` presented by the client matches only the same wildcard pattern.
  if (name.startsWith('*.')) return name.slice(2) === pattern.parent;
  const d = normalizeDomain(name);
  return d !== null && isSameOrSubdomain(d, pattern.parent);
}

/** The keys under which a presented name can be found in a pattern index: itself, `*.`+each ancestor. */
export function lookupKeysForPresentedName(presented: string): string[] {
  const name = presented.toLowerCase().replace(/\.$/, '');
  if (name.startsWith('*.')) return [name];
  const d = normalizeDomain(name);
  if (!d) return [];
  return [d, '*.' + d, ...parentDomains(d).map((p) => '*.' + p)];
}

export function patternKey(p: CertificateNamePattern): string {
  return p.kind === 'exact' ? p.name : '*.' + p.parent;
}

/**
 * The domain a matched certificate name stands for, for condition 1a: the name itself, or the
 * parent of a wildcard certificate (our rule: only the holder of `contoso.com` obtains `*.contoso.com`).
 */
export function certificateNameDomain(presented: string): Domain | null {
  const name = presented.toLowerCase().replace(/\.$/, '');
  return normalizeDomain(name.startsWith('*.') ? name.slice(2) : name);
}
