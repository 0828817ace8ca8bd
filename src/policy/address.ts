import { splitAddress } from '../core/address.js';
import { normalizeDomain, type Domain } from '../core/domain.js';

/**
 * Envelope address parsing with the hygiene rules of relay-policy.md §5. The domain is what follows
 * the last `@`; forms that could smuggle a second destination past us to a downstream server are
 * refused rather than interpreted.
 */
export type ParsedAddress =
  | { kind: 'null' }
  | { kind: 'mailbox'; local: string; domain: Domain; address: string }
  | { kind: 'literal'; local: string; literal: string; address: string }
  | { kind: 'invalid'; reason: string };

/**
 * C0 and C1 controls, DEL and the invisible formatting characters (zero-width space, word joiner,
 * BOM): never part of an address, and the SMTP session's parser refuses them, so `check` must too.
 */
const UNSAFE_CHARACTER = /[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]/;
/** RFC 5321 §4.1.2 `A-d-l ":"`: `@a.example,@b.example:` (no blank, comma, colon or @ in a hop). */
const SOURCE_ROUTE = /^@[^\s,:@]+(?:,@[^\s,:@]+)*:/;

/** Blanks around an address are not part of it; anything else there (a tab, a line end, a BOM) is. */
function trimBlanks(s: string): string {
  return s.replace(/^ +| +$/g, '');
}

export function parseEnvelopeAddress(raw: string): ParsedAddress {
  let s = trimBlanks(raw);
  if (s.startsWith('<') && s.endsWith('>')) s = trimBlanks(s.slice(1, -1));
  else if (s.startsWith('<') || s.endsWith('>')) return invalid('unbalanced angle brackets');
  if (s === '') return { kind: 'null' };

  // RFC 5321 §4.1.2 source route `@a,@b:user@domain`: the route is dropped, the mailbox is judged.
  if (s.startsWith('@')) {
    const route = SOURCE_ROUTE.exec(s);
    if (!route) return invalid(s.includes(':') ? 'malformed source route' : 'source route without a mailbox');
    s = s.slice(route[0].length);
  }
  if (UNSAFE_CHARACTER.test(s)) return invalid('a control or invisible character');

  let local: string;
  let domainPart: string;
  if (s.startsWith('"')) {
    const close = findClosingQuote(s);
    if (close === -1) return invalid('unterminated quoted local part');
    const quoted = s.slice(1, close);
    if (/[@%!]/.test(quoted)) return invalid(`quoted local part holds a routing character`);
    if (s[close + 1] !== '@') return invalid('no domain after the quoted local part');
    local = s.slice(0, close + 1);
    domainPart = s.slice(close + 2);
  } else {
    const parts = splitAddress(s);
    if (!parts) return invalid(s.includes('!') ? 'bang path without a domain' : 'unqualified address (no domain)');
    local = parts.local;
    domainPart = parts.domain;
    if (local.includes('@')) return invalid('more than one @');
    if (local.includes('%')) return invalid('percent hack in the local part');
    if (local.includes('!')) return invalid('bang path in the local part');
    if (local === '' || /[\s<>(),;:\\"[\]]/.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
      return invalid('malformed local part');
    }
  }

  if (domainPart.startsWith('[') && domainPart.endsWith(']')) {
    const literal = domainPart.slice(1, -1);
    if (!/^(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9a-fA-F:.]+)$/.test(literal)) return invalid('malformed address literal');
    return { kind: 'literal', local, literal, address: `${local}@[${literal}]` };
  }
  const domain = normalizeDomain(domainPart);
  if (!domain) return invalid('malformed domain');
  return { kind: 'mailbox', local, domain, address: `${local}@${domain}` };
}

function findClosingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function invalid(reason: string): ParsedAddress {
  return { kind: 'invalid', reason };
}

/** The domain an address routes to, for matching; null for the null sender, literals and invalid forms. */
export function addressDomain(p: ParsedAddress): Domain | null {
  return p.kind === 'mailbox' ? p.domain : null;
}

/**
 * The header From (P2) address: the first address of a From field's value, e.g.
 * `"Contoso" <a@contoso.com>, b@x` → `a@contoso.com`. Display names and comments are ignored.
 */
export function firstHeaderAddress(value: string): string | null {
  const angle = /<([^<>]*)>/.exec(value);
  if (angle?.[1] !== undefined) return angle[1].trim() || null;
  const bare = value.replace(/\([^()]*\)/g, ' ').split(',')[0]?.trim();
  return bare && bare.includes('@') ? bare : null;
}
