/**
 * `relaygate route list|add|remove`: a tenant's outbound routes (smart hosts by recipient domain),
 * which delivery reads before the server-wide routes and MX. Changes apply without a restart.
 * Passwords and private keys are stored but never printed.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { Option, type Command } from 'commander';
import { normalizeDomain } from '../../core/domain.js';
import { parseHostPort, type HostPort } from '../../config/units.js';
import type { Route, TlsMode } from '../../delivery/routing.js';
import { SqliteTenantRoutes, type StoredRoute } from '../../store/sqlite/delivery-settings.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, collect, printJson, withStores, type ConfigOption } from '../options.js';
import { cliPath, type CliContext } from '../io.js';

const TLS_MODES: readonly TlsMode[] = ['none', 'opportunistic', 'required', 'verify'];

interface AddOptions extends ConfigOption {
  domain: string[];
  host: string;
  tls: TlsMode;
  authUser?: string;
  authPass?: string;
  clientCert?: string;
  clientKey?: string;
  json?: boolean;
}

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

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new CliError(`${option}: cannot read ${file} (${reason})`);
  }
}

/** The PEM pair, checked to be a certificate and the private key that belongs to it. */
function readClientCertificate(certFile: string, keyFile: string): { cert: string; key: string } {
  const cert = readPem('--client-cert', certFile);
  const key = readPem('--client-key', keyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new CliError(`--client-cert: ${certFile} holds no PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new CliError(`--client-key: ${keyFile} holds no unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new CliError(`--client-key: ${keyFile} is not the key of the certificate in ${certFile}`);
  return { cert, key };
}

/** Everything `route add` takes, checked before the store is opened (exit 2 naming the option). */
function routeFromOptions(opts: AddOptions): Route {
  const domains: string[] = [];
  for (const value of opts.domain) {
    const d = parseRouteDomain(value);
    if (d === null) throw new CliError(`--domain: ${JSON.stringify(value)} is not a domain, "*.domain" or "*"`);
    if (!domains.includes(d)) domains.push(d);
  }
  const host = parseRouteHost(opts.host);
  if (host === null) throw new CliError(`--host: expected "host", "host:port" or "[ipv6]:port" with a port from 1 to 65535, got ${JSON.stringify(opts.host)}`);
  if ((opts.authUser === undefined) !== (opts.authPass === undefined)) throw new CliError('--auth-user and --auth-pass go together: give both or neither');
  if ((opts.clientCert === undefined) !== (opts.clientKey === undefined)) throw new CliError('--client-cert and --client-key go together: give both or neither');
  if (opts.authUser === '') throw new CliError('--auth-user: the user name is empty');
  return {
    domains,
    host: host.host,
    port: host.port,
    tls: opts.tls,
    auth: opts.authUser !== undefined && opts.authPass !== undefined ? { user: opts.authUser, pass: opts.authPass } : null,
    clientCert: opts.clientCert !== undefined && opts.clientKey !== undefined ? readClientCertificate(opts.clientCert, opts.clientKey) : null,
  };
}

function hostText(route: Route): string {
  return `${route.host.includes(':') ? `[${route.host}]` : route.host}:${route.port}`;
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
function publicRoute(r: StoredRoute): Record<string, unknown> {
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

function describe(r: StoredRoute): string {
  const extras = [`tls ${r.route.tls}`];
  if (r.route.auth) extras.push(`auth ${r.route.auth.user}`);
  if (r.route.clientCert) extras.push('client certificate');
  return `route ${r.id} of tenant ${r.tenant}: ${r.route.domains.join(', ')} → ${hostText(r.route)} (${extras.join(', ')})`;
}

async function directoryTenant(directory: { load(): Promise<{ tenants: ReadonlyArray<{ name: string }> }> }, name: string): Promise<string | null> {
  const tenant = (await directory.load()).tenants.find((t) => t.name.toLowerCase() === name.toLowerCase());
  return tenant ? tenant.name : null;
}

export function register(program: Command, cli: CliContext): void {
  const route = program.command('route').description('Per-tenant outbound routes: smart hosts by recipient domain, tried before server routes and MX');

  addConfigOption(
    route.command('list').description('List outbound routes (passwords and keys are never shown)').option('--tenant <name>', 'only this tenant').option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { tenant?: string; json?: boolean }) => {
    await withStores(cli, opts, async ({ db, directory }) => {
      let routes: StoredRoute[];
      if (opts.tenant === undefined) routes = new SqliteTenantRoutes(db).list();
      else {
        const name = await directoryTenant(directory, opts.tenant);
        routes = new SqliteTenantRoutes(db).list(name ?? opts.tenant);
        // Routes of a tenant since removed from the directory are still listed, so they can be removed.
        if (name === null && routes.length === 0) throw new CliError(`tenant ${opts.tenant} does not exist`, 'not-found');
      }
      if (opts.json) return printJson(cli, routes.map(publicRoute));
      if (routes.length === 0) return void cli.stdout.write('no outbound routes\n');
      cli.stdout.write(
        table(
          ['TENANT', 'ID', 'DOMAINS', 'HOST', 'TLS', 'AUTH USER', 'CLIENT CERT'],
          routes.map((r) => [r.tenant, String(r.id), r.route.domains.join(','), hostText(r.route), r.route.tls, r.route.auth?.user ?? '-', r.route.clientCert ? 'yes' : '-']),
        ),
      );
    });
  });

  addConfigOption(
    route
      .command('add')
      .description("Add an outbound route for a tenant's recipient domains")
      .argument('<tenant>')
      .requiredOption('--domain <domain>', 'recipient domain: d, *.d (every subdomain) or * (all); repeatable', collect)
      .requiredOption('--host <host[:port]>', 'smart host name or IP address, port 25 unless given ([ipv6]:port)')
      .addOption(new Option('--tls <mode>', 'TLS towards the host').choices(TLS_MODES).default('opportunistic'))
      .option('--auth-user <user>', 'SMTP AUTH user (with --auth-pass)')
      .option('--auth-pass <password>', 'SMTP AUTH password (with --auth-user)')
      .option('--client-cert <file>', 'PEM client certificate to present (with --client-key)')
      .option('--client-key <file>', 'PEM private key of --client-cert')
      .option('--json', 'machine-readable output'),
  ).action(async (tenantName: string, opts: AddOptions) => {
    const file = (p: string | undefined) => (p === undefined ? undefined : cliPath(cli, p));
    const candidate = routeFromOptions({ ...opts, clientCert: file(opts.clientCert), clientKey: file(opts.clientKey) });
    await withStores(cli, opts, async ({ db, directory }) => {
      const tenant = await directoryTenant(directory, tenantName);
      if (tenant === null) throw new CliError(`tenant ${tenantName} does not exist`, 'not-found');
      const routes = new SqliteTenantRoutes(db);
      // Of two routes naming the same domain routing uses the older one: the new one would never be used.
      for (const existing of routes.list(tenant)) {
        const taken = candidate.domains.find((d) => existing.route.domains.includes(d));
        if (taken !== undefined) throw new CliError(`--domain: ${taken} already has route ${existing.id} of tenant ${tenant}; remove that route first`);
      }
      const stored: StoredRoute = { id: routes.add(tenant, candidate), tenant, route: candidate };
      if (opts.json) printJson(cli, publicRoute(stored));
      else cli.stdout.write(`+ ${describe(stored)}\n`);
      if (candidate.auth && (candidate.tls === 'none' || candidate.tls === 'opportunistic')) {
        cli.stderr.write(`relaygate: warning: with --tls ${candidate.tls} the AUTH password can cross the network in clear; --tls required or verify prevents that\n`);
      }
    });
  });

  addConfigOption(
    route.command('remove').description('Remove an outbound route (ids from route list)').argument('<tenant>').argument('<route-id>').option('--json', 'machine-readable output'),
  ).action(async (tenantName: string, idText: string, opts: ConfigOption & { json?: boolean }) => {
    if (!/^[1-9]\d{0,15}$/.test(idText)) throw new CliError(`ROUTE-ID: expected a route id from "relaygate route list", got ${JSON.stringify(idText)}`);
    const id = Number(idText);
    await withStores(cli, opts, async ({ db, directory }) => {
      const tenant = (await directoryTenant(directory, tenantName)) ?? tenantName;
      const routes = new SqliteTenantRoutes(db);
      const existing = routes.list(tenant).find((r) => r.id === id);
      if (existing === undefined || !routes.remove(tenant, id)) throw new CliError(`route ${id} of tenant ${tenantName} does not exist`, 'not-found');
      if (opts.json) printJson(cli, publicRoute(existing));
      else cli.stdout.write(`- ${describe(existing)}\n`);
    });
  });
}
