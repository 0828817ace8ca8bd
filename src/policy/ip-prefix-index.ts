import { bitAt, parsePrefix, type ParsedPrefix } from '../core/ip-prefix.js';

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
