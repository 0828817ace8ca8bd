/**
 * `relaygate route list|add|remove`: a tenant's outbound routes (smart hosts by recipient domain),
 * which delivery reads before the server-wide routes and MX. Changes apply without a restart.
 * Passwords and private keys are stored but never printed. The rules are RoutesService's; this
 * module reads the options and the PEM files and prints.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { RelaygateError } from '../../core/errors.js';
import { fieldOf } from '../../core/field-error.js';
import { routeView, RoutesService, TLS_MODES, type RouteInput, type TenantRoute } from '../../delivery/routes-service.js';
import type { Route, TlsMode } from '../../store/ports.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, collect, printJson, withStores, type ConfigOption } from '../options.js';
import { cliPath, type CliContext } from '../io.js';
import type { Stores } from '../../app/stores.js';

export { parseRouteDomain, parseRouteHost } from '../../delivery/routes-service.js';

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

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new CliError(`${option}: cannot read ${file} (${reason})`);
  }
}

/** The route `route add` asks for: option pairs checked and PEM files read here, values by the service. */
function routeInput(opts: AddOptions): RouteInput {
  if ((opts.authUser === undefined) !== (opts.authPass === undefined)) throw new CliError('--auth-user and --auth-pass go together: give both or neither');
  if ((opts.clientCert === undefined) !== (opts.clientKey === undefined)) throw new CliError('--client-cert and --client-key go together: give both or neither');
  return {
    domains: opts.domain,
    host: opts.host,
    tls: opts.tls,
    auth: opts.authUser !== undefined && opts.authPass !== undefined ? { user: opts.authUser, pass: opts.authPass } : null,
    clientCert:
      opts.clientCert !== undefined && opts.clientKey !== undefined
        ? { cert: readPem('--client-cert', opts.clientCert), key: readPem('--client-key', opts.clientKey) }
        : null,
  };
}

/** A service error about one of the options, worded as `route add` names them; its code is kept. */
function optionError(err: unknown, opts: AddOptions): unknown {
  if (!(err instanceof RelaygateError) || err.code === 'not-found') return err;
  const reword = (text: string): CliError => new CliError(text, err.code, { cause: err, details: err.details });
  switch (fieldOf(err)) {
    case 'domain':
      return reword(`--domain: ${err.message}`);
    case 'host':
      return reword(`--host: ${err.message}`);
    case 'authUser':
      return reword(`--auth-user: ${err.message}`);
    case 'clientCert':
      return reword(`--client-cert: ${opts.clientCert} ${err.message}`);
    case 'clientKey':
      return reword(`--client-key: ${opts.clientKey} ${err.message}${err.details.problem === 'key-mismatch' ? ` in ${opts.clientCert}` : ''}`);
    default:
      return err;
  }
}

function routes(stores: Stores): RoutesService {
  return new RoutesService({ directory: stores.directory, settings: stores.tenantSettings });
}

function hostText(route: Route): string {
  return `${route.host.includes(':') ? `[${route.host}]` : route.host}:${route.port}`;
}

function describe(r: TenantRoute): string {
  const extras = [`tls ${r.route.tls}`];
  if (r.route.auth) extras.push(`auth ${r.route.auth.user}`);
  if (r.route.clientCert) extras.push('client certificate');
  return `route ${r.id} of tenant ${r.tenant}: ${r.route.domains.join(', ')} → ${hostText(r.route)} (${extras.join(', ')})`;
}

export function register(program: Command, cli: CliContext): void {
  const route = program.command('route').description('Per-tenant outbound routes: smart hosts by recipient domain, tried before server routes and MX');

  addConfigOption(
    route.command('list').description('List outbound routes (passwords and keys are never shown)').option('--tenant <name>', 'only this tenant').option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { tenant?: string; json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const list = await routes(stores).list(opts.tenant);
      if (opts.json) return printJson(cli, list.map(routeView));
      if (list.length === 0) return void cli.stdout.write('no outbound routes\n');
      cli.stdout.write(
        table(
          ['TENANT', 'ID', 'DOMAINS', 'HOST', 'TLS', 'AUTH USER', 'CLIENT CERT'],
          list.map((r) => [r.tenant, String(r.id), r.route.domains.join(','), hostText(r.route), r.route.tls, r.route.auth?.user ?? '-', r.route.clientCert ? 'yes' : '-']),
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
    const given = { ...opts, clientCert: file(opts.clientCert), clientKey: file(opts.clientKey) };
    const input = routeInput(given);
    await withStores(cli, opts, async (stores) => {
      const { route: stored, warnings } = await routes(stores).add(tenantName, input).catch((err: unknown) => Promise.reject(optionError(err, given)));
      if (opts.json) printJson(cli, routeView(stored));
      else cli.stdout.write(`+ ${describe(stored)}\n`);
      for (const w of warnings) {
        cli.stderr.write(`relaygate: warning: with --tls ${w.tls} the AUTH password can cross the network in clear; --tls required or verify prevents that\n`);
      }
    });
  });

  addConfigOption(
    route.command('remove').description('Remove an outbound route (ids from route list)').argument('<tenant>').argument('<route-id>').option('--json', 'machine-readable output'),
  ).action(async (tenantName: string, idText: string, opts: ConfigOption & { json?: boolean }) => {
    if (!/^[1-9]\d{0,15}$/.test(idText)) throw new CliError(`ROUTE-ID: expected a route id from "relaygate route list", got ${JSON.stringify(idText)}`);
    const id = Number(idText);
    await withStores(cli, opts, async (stores) => {
      const existing = await routes(stores).remove(tenantName, id);
      if (opts.json) printJson(cli, routeView(existing));
      else cli.stdout.write(`- ${describe(existing)}\n`);
    });
  });
}
