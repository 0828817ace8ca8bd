/**
 * `relaygate token create|list|revoke`: the admin API's bearer tokens. A token is printed once, at
 * creation; the store keeps only its hash. The command line acts as the operator (it holds the
 * store), so it may create any token; the rules are TokenService's.
 */
import type { Command } from 'commander';
import { operator } from '../../access/principal.js';
import { TokenService, type TokenView } from '../../access/tokens.js';
import { systemClock } from '../../core/clock.js';
import { RelaygateError } from '../../core/errors.js';
import { fieldOf } from '../../core/field-error.js';
import { parseDuration } from '../../config/units.js';
import type { Stores } from '../../app/stores.js';
import type { TokenScope } from '../../store/ports.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface CreateOptions extends ConfigOption {
  admin?: boolean;
  tenant?: string;
  scope: string;
  expires?: string;
  name?: string;
  json?: boolean;
}

function tokens(stores: Stores): TokenService {
  return new TokenService({ tokens: stores.tokens, directory: stores.directory, clock: systemClock });
}

function summary(v: TokenView): string {
  const who = v.role === 'admin' ? 'admin' : `tenant ${v.tenant}`;
  return `token ${v.id} "${v.name}": ${who}, ${v.scope}, ${v.expiresAt === null ? 'no expiry' : `expires ${v.expiresAt}`}`;
}

export function register(program: Command, cli: CliContext): void {
  const token = program.command('token').description('Bearer tokens for the admin API: create (shown once), list, revoke');

  addConfigOption(
    token
      .command('create')
      .description('Create a token (printed once; only its hash is stored)')
      .option('--admin', 'an admin token: every tenant and the server-wide resources')
      .option('--tenant <name>', 'a tenant token: only this tenant')
      .option('--scope <scope>', 'read or write', 'write')
      .option('--expires <duration>', 'expires after this long (90d, 12h, ...); default: never')
      .option('--name <text>', 'a name to recognize it by')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: CreateOptions) => {
    if ((opts.admin === true) === (opts.tenant !== undefined)) throw new CliError('give either --admin or --tenant NAME');
    if (opts.scope !== 'read' && opts.scope !== 'write') throw new CliError(`--scope: expected read or write, got ${JSON.stringify(opts.scope)}`);
    let expiresInMs: number | null = null;
    if (opts.expires !== undefined) {
      expiresInMs = /[a-z]\s*$/i.test(opts.expires) ? parseDuration(opts.expires) : null;
      if (expiresInMs === null || expiresInMs <= 0) throw new CliError(`--expires: expected a duration such as 90d or 12h, got ${JSON.stringify(opts.expires)}`);
    }
    await withStores(cli, opts, async (stores) => {
      const created = await tokens(stores)
        .create(operator, {
          role: opts.admin ? 'admin' : 'tenant',
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          scope: opts.scope as TokenScope,
          expiresInMs,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
        })
        .catch((err: unknown) => Promise.reject(optionError(err)));
      if (opts.json) return printJson(cli, { token: created.token, ...created.view });
      cli.stdout.write(`+ ${summary(created.view)}\n${created.token}\n`);
      cli.stderr.write('relaygate: the token is shown only now: keep it somewhere safe (Authorization: Bearer <token>)\n');
    });
  });

  addConfigOption(
    token.command('list').description('List tokens (never their secrets)').option('--tenant <name>', "only this tenant's").option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { tenant?: string; json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      let list = await tokens(stores).list(operator);
      if (opts.tenant !== undefined) {
        const wanted = opts.tenant.toLowerCase();
        const tenant = (await stores.directory.load()).tenants.find((t) => t.name.toLowerCase() === wanted);
        if (!tenant) throw new CliError(`tenant ${opts.tenant} does not exist`, 'not-found');
        list = list.filter((t) => t.tenantId === tenant.id);
      }
      if (opts.json) return printJson(cli, list);
      if (list.length === 0) return void cli.stdout.write('no tokens\n');
      cli.stdout.write(
        table(
          ['ID', 'NAME', 'ROLE', 'TENANT', 'SCOPE', 'EXPIRES', 'STATE'],
          list.map((t) => [t.id, t.name, t.role, t.tenant ?? '-', t.scope, t.expiresAt ?? 'never', t.state]),
        ),
      );
    });
  });

  addConfigOption(
    token.command('revoke').description('Revoke a token: it stops working at once').argument('<id>').option('--json', 'machine-readable output'),
  ).action(async (id: string, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const { before, after } = await tokens(stores).revoke(operator, id);
      if (opts.json) return printJson(cli, after);
      cli.stdout.write(before.revokedAt === null ? `- ${summary(after)}: revoked\n` : `token ${after.id} was already revoked at ${after.revokedAt}\n`);
    });
  });
}

/** A service error about an input, worded as the option that gave it. */
function optionError(err: unknown): unknown {
  if (!(err instanceof RelaygateError) || err.code === 'not-found') return err;
  const field = fieldOf(err);
  return field === 'name' || field === 'expires' ? new CliError(`--${field}: ${err.message}`, err.code, { cause: err, details: err.details }) : err;
}
