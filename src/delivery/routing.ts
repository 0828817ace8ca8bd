/**
 * Next-hop routing: the tenant's outbound routes, then the server-wide static routes, then MX.
 * A route's `domains` hold exact domains, `*.d` (every subdomain of d, not d itself) or `*` (all).
 * Exact matches beat wildcard ones, longer wildcards beat shorter; among tenant routes and server
 * routes the tenant's always win.
 */
import { DeliveryError, LocalFailures } from './outcome.js';
import { hostAddresses, resolveMxHosts, type RandomSource } from './dns/mx.js';
import { isLocalAddress } from './dns/local-address.js';
import type { AddressRecord, DnsLookup } from './dns/resolver.js';

import type { ClientCertificate, Route, RouteAuth, TlsMode } from '../store/ports.js';

export type { ClientCertificate, Route, RouteAuth, TlsMode };

/** Per-tenant outbound routes (by tenant id), from the tenant settings snapshot of the delivery pass. */
export interface TenantRouteSource {
  routesFor(tenantId: string): readonly Route[];
}

/** One host to try, with everything the SMTP client needs. */
export interface HopTarget {
  /** The name the host is known by (SNI and `verify` certificate checks). */
  name: string;
  address: string;
  port: number;
  tls: TlsMode;
  auth: RouteAuth | null;
  clientCert: ClientCertificate | null;
}

export interface NextHopPlan {
  /** Recipients with the same key share connections and one transaction per message. */
  key: string;
  /** The destination for throttling (a route's host or the recipient domain). */
  destination: string;
  hops: HopTarget[];
}

export interface RoutingSettings {
  serverRoutes: readonly Route[];
  tenantRoutes: TenantRouteSource;
  dns: DnsLookup;
  random: RandomSource;
  /** TLS mode for MX delivery (default opportunistic). */
  mxTls?: TlsMode;
  /** Port for MX delivery: 25 in production; tests point it at a loopback receiver. */
  mxPort?: number;
  /** Names this relay answers to: MX hosts named so (and all less preferred ones) are dropped, RFC 5321 §5.1. */
  ownNames?: readonly string[];
  /** Order of address families when a host has both (default IPv6 then IPv4, as RFC 6724 prefers). */
  preferIPv4?: boolean;
  /**
   * delivery.allowLocalAddresses: use MX/A/AAAA answers (and address literals) that point at
   * loopback, unspecified or link-local addresses. Off (the default) they are never connected to.
   */
  allowLocalAddresses?: boolean;
}

function matchScore(pattern: string, domain: string): number {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p === domain) return 10_000;
  if (p === '*') return 1;
  if (p.startsWith('*.') && domain.endsWith(p.slice(1))) return 2 + p.length;
  return 0;
}

/** The best route of `routes` for `domain`, or null. */
export function matchRoute(routes: readonly Route[], domain: string): Route | null {
  let best: Route | null = null;
  let bestScore = 0;
  for (const r of routes) {
    for (const d of r.domains) {
      const s = matchScore(d, domain);
      if (s > bestScore) {
        best = r;
        bestScore = s;
      }
    }
  }
  return best;
}

export function selectRoute(settings: Pick<RoutingSettings, 'serverRoutes' | 'tenantRoutes'>, tenantId: string | null, domain: string): Route | null {
  const own = tenantId ? matchRoute(settings.tenantRoutes.routesFor(tenantId), domain) : null;
  return own ?? matchRoute(settings.serverRoutes, domain);
}

function orderAddresses(addresses: AddressRecord[], preferIPv4: boolean): AddressRecord[] {
  const first = preferIPv4 ? 4 : 6;
  return [...addresses.filter((a) => a.family === first), ...addresses.filter((a) => a.family !== first)];
}

/** Resolves where mail for `domain` of the tenant (by id) goes. Throws DeliveryError when it cannot go anywhere. */
export async function planNextHop(settings: RoutingSettings, tenantId: string | null, domain: string): Promise<NextHopPlan> {
  const d = domain.toLowerCase();
  const route = selectRoute(settings, tenantId, d);
  const preferIPv4 = settings.preferIPv4 ?? false;
  if (route) {
    const addresses = orderAddresses(await hostAddresses(settings.dns, route.host), preferIPv4);
    if (addresses.length === 0) throw new DeliveryError(LocalFailures.noAddress(`route host ${route.host}`));
    return {
      key: `route:${tenantId ?? ''}:${route.host}:${route.port}:${route.tls}:${route.auth?.user ?? ''}`,
      destination: route.host,
      hops: addresses.map((a) => ({
        name: route.host, address: a.address, port: route.port, tls: route.tls,
        auth: route.auth ?? null, clientCert: route.clientCert ?? null,
      })),
    };
  }
  let hosts = await resolveMxHosts(settings.dns, d, settings.random);
  const own = new Set((settings.ownNames ?? []).map((n) => n.toLowerCase().replace(/\.$/, '')));
  const self = hosts.find((h) => own.has(h.name.toLowerCase().replace(/\.$/, '')));
  if (self) {
    hosts = hosts.filter((h) => h.preference < self.preference);
    if (hosts.length === 0) throw new DeliveryError(LocalFailures.routingLoop(d));
  }
  // Whoever controls a domain's DNS (or writes a literal) could otherwise make this relay deliver to
  // itself or to services on its own host: such addresses are dropped, and when none is left the
  // mail would only loop back here. Configured routes above are the operator's own and exempt.
  if (!settings.allowLocalAddresses) {
    const local = hosts.flatMap((h) => h.addresses.filter((a) => isLocalAddress(a.address)).map((a) => a.address));
    hosts = hosts.map((h) => ({ ...h, addresses: h.addresses.filter((a) => !isLocalAddress(a.address)) })).filter((h) => h.addresses.length > 0);
    if (hosts.length === 0) throw new DeliveryError(LocalFailures.localAddressLoop(d, [...new Set(local)]));
  }
  return {
    key: `mx:${d}`,
    destination: d,
    hops: hosts.flatMap((h) =>
      orderAddresses(h.addresses, preferIPv4).map((a) => ({
        name: h.name, address: a.address, port: settings.mxPort ?? 25, tls: settings.mxTls ?? 'opportunistic',
        auth: null, clientCert: null,
      })),
    ),
  };
}
