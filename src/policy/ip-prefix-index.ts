import ipaddr from 'ipaddr.js';

/**
 * A binary trie of IP prefixes, one per address family, so a connection's source IP is matched
 * against every connector's ranges in at most 32 (IPv4) or 128 (IPv6) steps, however many tenants
 * there are. Written here because no maintained npm package offers a longest/all-prefix trie with
 * values for both families; the bit walking is small.
 */
interface TrieNode<T> {
  zero?: TrieNode<T>;
  one?: TrieNode<T>;
  values?: T[];
}

export interface ParsedPrefix {
  family: 'ipv4' | 'ipv6';
  bytes: number[];
  length: number;
}

/** Parses an address or CIDR; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. Null when malformed. */
export function parsePrefix(text: string): ParsedPrefix | null {
  try {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    let length: number;
    if (text.includes('/')) {
      [addr, length] = ipaddr.parseCIDR(text);
    } else {
      addr = ipaddr.parse(text);
      length = addr.kind() === 'ipv4' ? 32 : 128;
    }
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
      length = Math.max(0, length - 96);
    }
    return { family: addr.kind(), bytes: addr.toByteArray(), length };
  } catch {
    return null;
  }
}

/** Canonical CIDR text of a prefix, host bits cleared: `203.0.113.7/24` → `203.0.113.0/24`. */
export function formatPrefix(p: ParsedPrefix): string {
  const bytes = p.bytes.map((b, i) => {
    const bitsHere = Math.min(8, Math.max(0, p.length - i * 8));
    return b & ((0xff << (8 - bitsHere)) & 0xff);
  });
  const addr = ipaddr.fromByteArray(bytes);
  return `${addr.toString()}/${p.length}`;
}

function bitAt(bytes: number[], i: number): 0 | 1 {
  return (((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) as 0 | 1;
}

export class IpPrefixIndex<T> {
  private readonly roots = { ipv4: {} as TrieNode<T>, ipv6: {} as TrieNode<T> };

  insert(prefix: ParsedPrefix, value: T): void {
    let node = this.roots[prefix.family];
    for (let i = 0; i < prefix.length; i++) {
      const key = bitAt(prefix.bytes, i) ? 'one' : 'zero';
      node = node[key] ??= {};
    }
    (node.values ??= []).push(value);
  }

  /** Every value whose prefix contains the address, shortest prefix first. */
  lookup(address: string): T[] {
    const p = parsePrefix(address);
    if (!p) return [];
    return this.containing(p);
  }

  /** Values of prefixes that contain the given prefix (ancestors and itself). */
  containing(p: ParsedPrefix): T[] {
    const out: T[] = [];
    let node: TrieNode<T> | undefined = this.roots[p.family];
    for (let i = 0; node; i++) {
      if (node.values) out.push(...node.values);
      if (i >= p.length) break;
      node = bitAt(p.bytes, i) ? node.one : node.zero;
    }
    return out;
  }

  /** Values of prefixes that overlap the given one: those containing it and those inside it. */
  overlapping(p: ParsedPrefix): T[] {
    const out = this.containing(p);
    let node: TrieNode<T> | undefined = this.roots[p.family];
    for (let i = 0; node && i < p.length; i++) node = bitAt(p.bytes, i) ? node.one : node.zero;
    if (!node) return out;
    const stack: TrieNode<T>[] = [];
    if (node.zero) stack.push(node.zero);
    if (node.one) stack.push(node.one);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.values) out.push(...n.values);
      if (n.zero) stack.push(n.zero);
      if (n.one) stack.push(n.one);
    }
    return out;
  }
}

/** Does the prefix contain the address (both parsed; families must agree)? */
export function prefixContains(prefix: ParsedPrefix, address: ParsedPrefix): boolean {
  if (prefix.family !== address.family) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bitAt(prefix.bytes, i) !== bitAt(address.bytes, i)) return false;
  }
  return true;
}
