/**
 * Where mail for a domain goes, per RFC 5321 §5.1: MX records in preference order with equal
 * preferences shuffled; no MX → the domain's own A/AAAA (implicit MX); a null MX (RFC 7505: a single
 * MX "." of preference 0) → permanent failure 556 5.1.10; NXDOMAIN → permanent failure.
 */
import { isIP } from 'node:net';
import { DeliveryError, LocalFailures } from '../outcome.js';
import { DnsTemporaryError, type AddressRecord, type DnsLookup, type MxRecord } from './resolver.js';

/** A source of numbers in [0, 1): Math.random in production, a fixed sequence in tests. */
export type RandomSource = () => number;

export interface MxHost {
  /** The host name (used for TLS SNI and certificate checks). */
  name: string;
  preference: number;
  addresses: AddressRecord[];
}

export function isNullMx(records: readonly MxRecord[]): boolean {
  return records.length === 1 && records[0]!.priority === 0 && (records[0]!.exchange === '' || records[0]!.exchange === '.');
}

/** Sorts by preference and shuffles each run of equal preferences (Fisher–Yates). */
export function orderMx(records: readonly MxRecord[], random: RandomSource): MxRecord[] {
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  const out: MxRecord[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]!.priority === sorted[i]!.priority) j++;
    const group = sorted.slice(i, j);
    for (let k = group.length - 1; k > 0; k--) {
      const r = Math.min(Math.floor(random() * (k + 1)), k);
      [group[k], group[r]] = [group[r]!, group[k]!];
    }
    out.push(...group);
    i = j;
  }
  return out;
}

async function wrapDns<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DnsTemporaryError) throw new DeliveryError(LocalFailures.dnsTemporary(err.message));
    throw err;
  }
}

/** Addresses of a host name (or the literal itself when it is an IP address). */
export async function hostAddresses(dns: DnsLookup, host: string): Promise<AddressRecord[]> {
  const literal = isIP(host);
  if (literal === 4 || literal === 6) return [{ address: host, family: literal }];
  const answer = await wrapDns(() => dns.addresses(host));
  return answer.kind === 'records' ? answer.records : [];
}

/**
 * The hosts to try for `domain`, best first, each with its addresses (IPv4 and IPv6).
 * Throws DeliveryError with a classified failure when the domain cannot receive mail now or ever.
 */
export async function resolveMxHosts(dns: DnsLookup, domain: string, random: RandomSource): Promise<MxHost[]> {
  const literal = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(domain);
  if (literal && isIP(literal[1]!)) {
    return [{ name: literal[1]!, preference: 0, addresses: await hostAddresses(dns, literal[1]!) }];
  }
  const mx = await wrapDns(() => dns.mx(domain));
  if (mx.kind === 'nxdomain') throw new DeliveryError(LocalFailures.noSuchDomain(domain));
  if (mx.kind === 'records' && isNullMx(mx.records)) throw new DeliveryError(LocalFailures.nullMx(domain));
  if (mx.kind === 'nodata') {
    const own = await wrapDns(() => dns.addresses(domain));
    if (own.kind === 'nxdomain') throw new DeliveryError(LocalFailures.noSuchDomain(domain));
    if (own.kind === 'nodata') throw new DeliveryError(LocalFailures.noAddress(`${domain} (no MX, A or AAAA records)`));
    return [{ name: domain, preference: 0, addresses: own.records }];
  }
  // A "." among real MX records is not a null MX; it simply names no host.
  const ordered = orderMx(mx.records.filter((r) => r.exchange !== '' && r.exchange !== '.'), random);
  const hosts: MxHost[] = [];
  let lastTemporary: DeliveryError | null = null;
  for (const r of ordered) {
    try {
      const addresses = await hostAddresses(dns, r.exchange);
      if (addresses.length > 0) hosts.push({ name: r.exchange, preference: r.priority, addresses });
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      lastTemporary = err;
    }
  }
  if (hosts.length === 0) {
    throw lastTemporary ?? new DeliveryError(LocalFailures.noAddress(`the MX hosts of ${domain} (${ordered.map((r) => r.exchange).join(', ')})`));
  }
  return hosts;
}
