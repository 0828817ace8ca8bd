/**
 * IP addresses and CIDR prefixes as values: strict parsing (dotted-quad IPv4, IPv6 without zone),
 * IPv4-mapped IPv6 taken as IPv4 (relay-policy.md §1), and one canonical text form (host bits
 * cleared, RFC 5952 for IPv6). Used by the directory, the configuration and the policy engine.
 */
import ipaddr from 'ipaddr.js';

export interface ParsedPrefix {
  family: 'ipv4' | 'ipv6';
  bytes: number[];
  length: number;
}

/** Parses an address (a /32 or /128) or a CIDR range; null when malformed. */
export function parsePrefix(input: string): ParsedPrefix | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const lengthText = slash === -1 ? null : text.slice(slash + 1);
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addrText)) addr = ipaddr.IPv4.parse(addrText);
  else if (ipaddr.IPv6.isValid(addrText) && !addrText.includes('%')) addr = ipaddr.IPv6.parse(addrText);
  else return null;
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (lengthText !== null && !/^\d{1,3}$/.test(lengthText)) return null;
  let length = lengthText === null ? max : Number(lengthText);
  if (length > max) return null;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && length >= 96) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    length -= 96;
  }
  return { family: addr.kind(), bytes: clearHostBits(addr.toByteArray(), length), length };
}

/** Canonical CIDR text: `203.0.113.7/24` → `203.0.113.0/24`, `2001:DB8:0::/48` → `2001:db8::/48`. */
export function formatPrefix(p: ParsedPrefix): string {
  const addr = ipaddr.fromByteArray(p.bytes);
  const shown = addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
  return `${shown}/${p.length}`;
}

/** Canonical CIDR text of an address or range, or null when malformed. */
export function canonicalCidr(input: string): string | null {
  const p = parsePrefix(input);
  return p ? formatPrefix(p) : null;
}

/** The address of a prefix without its length: the network address. */
export function prefixAddress(p: ParsedPrefix): string {
  return formatPrefix(p).split('/')[0]!;
}

export function bitAt(bytes: readonly number[], i: number): 0 | 1 {
  return (((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Does the prefix contain the address or range (same family, all prefix bits equal)? */
export function prefixContains(prefix: ParsedPrefix, other: ParsedPrefix): boolean {
  if (prefix.family !== other.family || other.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bitAt(prefix.bytes, i) !== bitAt(other.bytes, i)) return false;
  }
  return true;
}

function clearHostBits(bytes: number[], length: number): number[] {
  return bytes.map((b, i) => {
    const bitsHere = Math.min(8, Math.max(0, length - i * 8));
    return b & ((0xff << (8 - bitsHere)) & 0xff);
  });
}

/** The canonical text of a single address (IPv4-mapped IPv6 as IPv4), or null: malformed, or a range. */
export function parseIpAddress(input: string): string | null {
  if (input.includes('/')) return null;
  const p = parsePrefix(input);
  return p ? prefixAddress(p) : null;
}

/**
 * A range written with host bits set (`198.51.100.7/24`): its canonical form (`198.51.100.0/24`),
 * which is what it matches; null when the text is already a network address, a single address, or
 * not a range at all.
 */
export function hostBitsCleared(input: string): string | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  if (slash === -1) return null;
  const range = parsePrefix(text);
  const address = parsePrefix(text.slice(0, slash));
  if (!range || !address || range.family !== address.family) return null;
  return range.bytes.every((b, i) => b === address.bytes[i]) ? null : formatPrefix(range);
}
