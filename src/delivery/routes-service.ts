/**
 * A tenant's outbound routes (smart hosts by recipient domain), which delivery reads before the
 * server-wide routes and MX. The rules every front end shares live here: route domains, host and
 * port, the client certificate and its key as a pair, one route per domain and tenant, and the
 * warning for an AUTH password that may travel without TLS. Changes apply from the next delivery
 * pass on, without a restart.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { compareText, normalizeDomain } from '../core/domain.js';
import { RelaygateError } from '../core/errors.js';
import { invalidField } from '../core/field-error.js';
import { parseHostPort, type HostPort } from '../config/units.js';
import { requireTenant } from '../directory/find-tenant.js';
import type { StoredDirectory, TenantId } from '../directory/model.js';
import type { ClientCertificate, DirectoryStore, Route, RouteAuth, SettingsWriteOptions, TenantSettingsStore, TlsMode } from '../store/ports.js';

export const TLS_MODES: readonly TlsMode[] = ['none', 'opportunistic', 'required', 'verify'];

/** What adding a route takes; domains and host as a person writes them. */
export interface RouteInput {
  domains: readonly string[];
  host: string;
  tls: TlsMode;
  auth: RouteAuth | null;
  clientCert: ClientCertificate | null;
}

/** A stored route with the name its tenant has now. */
export interface TenantRoute {
  id: number;
  tenantId: TenantId;
  tenant: string;
  route: Route;
}

/** Something the caller should tell the person, though the route was added. */
export type RouteWarning = { code: 'auth-without-tls'; tls: TlsMode };

/** `d`, `*.d` (every subdomain of d) or `*` (every domain), as routing matches them. */
export function parseRouteDomain(value: string): string | null {
  if (value === '*') return '*';
  const wild = value.startsWith('*.');
  const d = normalizeDomain(wild ? value.slice(2) : value);
  return d === null ? null : wild ? `*.${d}` : d;
}

/** "host", "host:port", an IP address, or "[ipv6]:port"; port 25 when none is given. */
export function parseRouteHost(value: string): HostPort | null {
  const hp = parseHostPort(value) ?? parseHostPort(value.startsWith('[') ? `${value}:25` : value.includes(':') ? `[${value}]:25` : `${value}:25`);
  if (hp === null || hp.port === 0) return null;
  if (ipaddr.IPv4.isValidFourPartDecimal(hp.host) || ipaddr.IPv6.isValid(hp.host)) return { host: ipaddr.parse(hp.host).toString(), port: hp.port };
  const name = normalizeDomain(hp.host);
  return name === null ? null : { host: name, port: hp.port };
}

/** The PEM pair, checked to be a certificate and the unencrypted private key that belongs to it. */
function checkClientCertificate(pair: ClientCertificate): ClientCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pair.cert);
  } catch {
    throw invalidField('clientCert', 'holds no PEM certificate', 'not-a-certificate');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pair.key);
  } catch {
    throw invalidField('clientKey', 'holds no unencrypted PEM private key', 'not-a-private-key');
  }
  if (!x509.checkPrivateKey(privateKey)) throw invalidField('clientKey', 'is not the key of the certificate', 'key-mismatch');
  return pair;
}

/** The route `input` describes, canonical, or a ServiceError naming the field. */
export function validateRoute(input: RouteInput): Route {
  const domains: string[] = [];
  for (const value of input.domains) {
    const d = parseRouteDomain(value);
    if (d === null) throw invalidField('domain', `${JSON.stringify(value)} is not a domain, "*.domain" or "*"`);
    if (!domains.includes(d)) domains.push(d);
  }
  if (domains.length === 0) throw invalidField('domain', 'a route needs at least one domain');
  const host = parseRouteHost(input.host);
  if (host === null) throw invalidField('host', `expected "host", "host:port" or "[ipv6]:port" with a port from 1 to 65535, got ${JSON.stringify(input.host)}`);
  if (!TLS_MODES.includes(input.tls)) throw invalidField('tls', `expected one of ${TLS_MODES.join(', ')}, got ${JSON.stringify(input.tls)}`);
  if (input.auth && input.auth.user === '') throw invalidField('authUser', 'the user name is empty');
  return {
    domains,
    host: host.host,
    port: host.port,
    tls: input.tls,
    auth: input.auth ? { user: input.auth.user, pass: input.auth.pass } : null,
    clientCert: input.clientCert ? checkClientCertificate(input.clientCert) : null,
  };
}

export class RoutesService {
  constructor(private readonly deps: { directory: Pick<DirectoryStore, 'load'>; settings: TenantSettingsStore }) {}

  /** Every tenant's routes, or one tenant's (any case), by tenant name and then id. */
  async list(tenantName?: string): Promise<TenantRoute[]> {
    const directory = await this.deps.directory.load();
    const tenant = tenantName === undefined ? undefined : requireTenant(directory, tenantName);
    const routes = (await this.deps.settings.routes(tenant?.id)).map((r) => named(directory, r));
    return routes.sort((a, b) => compareText(a.tenant, b.tenant) || a.id - b.id);
  }

  /**
   * Adds a route for the tenant. Of two routes of a tenant naming the same domain routing uses the
   * older one, so a domain another route of the tenant has is refused (`conflict`).
   */
  async add(tenantName: string, input: RouteInput, options: SettingsWriteOptions = {}): Promise<{ route: TenantRoute; warnings: RouteWarning[] }> {
    const route = validateRoute(input);
    const directory = await this.deps.directory.load();
    const tenant = requireTenant(directory, tenantName);
    for (const existing of await this.deps.settings.routes(tenant.id)) {
      const taken = route.domains.find((d) => existing.route.domains.includes(d));
      if (taken !== undefined) {
        throw new RelaygateError('conflict', `${taken} already has route ${existing.id} of tenant ${tenant.name}; remove that route first`, {
          details: { field: 'domain', domain: taken, route: existing.id },
        });
      }
    }
    const stored = await this.deps.settings.addRoute(tenant.id, route, options);
    const warnings: RouteWarning[] = route.auth && (route.tls === 'none' || route.tls === 'opportunistic') ? [{ code: 'auth-without-tls', tls: route.tls }] : [];
    return { route: named(directory, stored), warnings };
  }

  /** Removes the tenant's route `id` and returns it (`not-found` when the tenant has no such route). */
  async remove(tenantName: string, id: number, options: SettingsWriteOptions = {}): Promise<TenantRoute> {
    const directory = await this.deps.directory.load();
    const tenant = requireTenant(directory, tenantName);
    const removed = Number.isSafeInteger(id) && id > 0 ? await this.deps.settings.removeRoute(tenant.id, id, options) : null;
    if (removed === null) throw new RelaygateError('not-found', `route ${id} of tenant ${tenantName} does not exist`, { details: { field: 'id' } });
    return named(directory, removed);
  }
}

function named(directory: StoredDirectory, r: { id: number; tenantId: TenantId; route: Route }): TenantRoute {
  return { id: r.id, tenantId: r.tenantId, tenant: directory.tenants.find((t) => t.id === r.tenantId)?.name ?? r.tenantId, route: r.route };
}

/** A route as every front end shows it: never the AUTH password or the client certificate's key. */
export interface RouteView {
  id: number;
  tenant: string;
  domains: readonly string[];
  host: string;
  port: number;
  tls: TlsMode;
  authUser: string | null;
  clientCert: { subject: string; validTo: string | null } | null;
}

function certificateSummary(pem: string): { subject: string; validTo: string } | null {
  try {
    const x509 = new X509Certificate(pem);
    return { subject: x509.subject.split('\n').join(', '), validTo: new Date(x509.validTo).toISOString() };
  } catch {
    return null;
  }
}

/** What may be shown of a route: never the password or the private key. */
export function routeView(r: TenantRoute): RouteView {
  return {
    id: r.id,
    tenant: r.tenant,
    domains: r.route.domains,
    host: r.route.host,
    port: r.route.port,
    tls: r.route.tls,
    authUser: r.route.auth?.user ?? null,
    clientCert: r.route.clientCert ? (certificateSummary(r.route.clientCert.cert) ?? { subject: 'unreadable', validTo: null }) : null,
  };
}

