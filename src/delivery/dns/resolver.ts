import { Resolver } from 'node:dns/promises';
import type { Clock } from '../../core/clock.js';
import { RelaygateError } from '../../core/errors.js';

/** DNS settings of the delivery side (relaygate.yaml `delivery.dns`). */
export interface DnsSettings {
  /** "ip" or "ip:port" or "[ipv6]:port"; empty = the system's resolvers. */
  servers: readonly string[];
  /** Per-query timeout in ms (Node retries `tries` times, doubling it). */
  timeoutMs: number;
  tries?: number;
  /** Node's resolveMx reports no TTL, so MX answers are cached this long (seconds). */
  mxTtlSeconds?: number;
  /** How long a "no such domain" / "no records" answer is cached (seconds). */
  negativeTtlSeconds?: number;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}
export interface AddressRecord {
  address: string;
  family: 4 | 6;
}

/** A definite answer; anything else (timeout, SERVFAIL, refused) is thrown as DnsTemporaryError. */
export type Answer<T> = { kind: 'records'; records: T[] } | { kind: 'nodata' } | { kind: 'nxdomain' };

export class DnsTemporaryError extends RelaygateError {
  constructor(
    readonly query: string,
    /** The resolver's code: ETIMEOUT, ESERVFAIL, ECONNREFUSED, ... */
    readonly dnsCode: string,
  ) {
    super('unavailable', `DNS lookup of ${query} failed: ${dnsCode}`, { details: { query, dnsCode } });
    this.name = 'DnsTemporaryError';
  }
}

/** The queries delivery needs, as a port so that routing can be tested with any resolver. */
export interface DnsLookup {
  mx(domain: string): Promise<Answer<MxRecord>>;
  addresses(host: string): Promise<Answer<AddressRecord>>;
}

interface CacheEntry {
  expiresAt: number;
  value: Answer<MxRecord> | Answer<AddressRecord>;
}

/** Node's resolver with configurable servers and timeouts, answers cached by TTL on the injected clock. */
export class CachingDnsResolver implements DnsLookup {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxEntries = 10_000;

  constructor(
    private readonly settings: DnsSettings,
    private readonly clock: Clock,
  ) {
    this.resolver = new Resolver({ timeout: settings.timeoutMs, tries: settings.tries ?? 2 });
    if (settings.servers.length > 0) this.resolver.setServers([...settings.servers]);
  }

  async mx(domain: string): Promise<Answer<MxRecord>> {
    return this.cached(`MX ${domain}`, async () => {
      const r = await this.query(domain, 'MX', () => this.resolver.resolveMx(domain));
      if (r.kind !== 'records') return { answer: r, ttl: this.negativeTtl() };
      return { answer: { kind: 'records', records: r.records.map((m) => ({ exchange: m.exchange, priority: m.priority })) }, ttl: this.settings.mxTtlSeconds ?? 300 };
    }) as Promise<Answer<MxRecord>>;
  }

  async addresses(host: string): Promise<Answer<AddressRecord>> {
    return this.cached(`ADDR ${host}`, async () => {
      const [v4, v6] = await Promise.all([
        this.query(host, 'A', () => this.resolver.resolve4(host, { ttl: true })),
        this.query(host, 'AAAA', () => this.resolver.resolve6(host, { ttl: true })),
      ]);
      if (v4.kind === 'nxdomain' || v6.kind === 'nxdomain') {
        if (v4.kind !== 'records' && v6.kind !== 'records') return { answer: { kind: 'nxdomain' }, ttl: this.negativeTtl() };
      }
      const records: AddressRecord[] = [];
      let ttl = Number.POSITIVE_INFINITY;
      if (v4.kind === 'records') for (const a of v4.records) { records.push({ address: a.address, family: 4 }); ttl = Math.min(ttl, a.ttl); }
      if (v6.kind === 'records') for (const a of v6.records) { records.push({ address: a.address, family: 6 }); ttl = Math.min(ttl, a.ttl); }
      if (records.length === 0) return { answer: { kind: 'nodata' }, ttl: this.negativeTtl() };
      return { answer: { kind: 'records', records }, ttl };
    }) as Promise<Answer<AddressRecord>>;
  }

  private negativeTtl(): number {
    return this.settings.negativeTtlSeconds ?? 60;
  }

  private async cached(
    key: string,
    load: () => Promise<{ answer: Answer<MxRecord> | Answer<AddressRecord>; ttl: number }>,
  ): Promise<Answer<MxRecord> | Answer<AddressRecord>> {
    const now = this.clock.now().getTime();
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const { answer, ttl } = await load();
    if (this.cache.size >= this.maxEntries) this.evictExpired(now);
    if (ttl > 0) this.cache.set(key, { expiresAt: now + ttl * 1000, value: answer });
    return answer;
  }

  private evictExpired(now: number): void {
    for (const [k, v] of this.cache) if (v.expiresAt <= now) this.cache.delete(k);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
  }

  private async query<T>(name: string, type: string, run: () => Promise<T[]>): Promise<Answer<T>> {
    try {
      const records = await run();
      return records.length === 0 ? { kind: 'nodata' } : { kind: 'records', records };
    } catch (err) {
      const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'EUNKNOWN';
      if (code === 'ENOTFOUND') return { kind: 'nxdomain' };
      if (code === 'ENODATA') return { kind: 'nodata' };
      throw new DnsTemporaryError(`${type} ${name}`, code);
    }
  }
}
