/**
 * `relaygate quota show|set`: per-tenant daily recipient quotas, enforced at RCPT TO (550 5.7.232
 * once reached). A running server picks a changed limit up within a second.
 */
import type { Command } from 'commander';
import { QuotaService } from '../../smtp/quota-service.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';
import type { Stores } from '../../app/stores.js';

/** A whole number of recipients (0 refuses every recipient) or null for "unlimited". */
export function parseDailyLimit(value: string): number | null {
  if (value.toLowerCase() === 'unlimited') return null;
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new CliError(`LIMIT: expected a whole number of recipients per day (0 or more) or "unlimited", got ${JSON.stringify(value)}`);
  return n;
}

function limitText(limit: number | null): string {
  return limit === null ? 'unlimited' : String(limit);
}

function quotaService(stores: Stores): QuotaService {
  return new QuotaService({ directory: stores.directory, settings: stores.tenantSettings, counters: stores.counters });
}

export function register(program: Command, cli: CliContext): void {
  const quota = program.command('quota').description('Per-tenant daily recipient quotas (checked at RCPT TO, reset at 00:00 UTC)');

  addConfigOption(
    quota.command('show').description("Daily recipient limit and today's count per tenant").argument('[tenant]').option('--json', 'machine-readable output'),
  ).action(async (name: string | undefined, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const views = await quotaService(stores).show(name);
      if (opts.json) return printJson(cli, name !== undefined ? views[0] : views);
      if (views.length === 0) return void cli.stdout.write('no tenants\n');
      cli.stdout.write(table(['TENANT', 'DAILY LIMIT', `TODAY (${views[0]!.day} UTC)`], views.map((v) => [v.tenant, limitText(v.dailyLimit), String(v.recipients)])));
    });
  });

  addConfigOption(
    quota.command('set').description('Set a tenant\'s daily recipient limit: a number, or "unlimited"').argument('<tenant>').argument('<limit>'),
  ).action(async (name: string, limitValue: string, opts: ConfigOption) => {
    const limit = parseDailyLimit(limitValue);
    await withStores(cli, opts, async (stores) => {
      const set = await quotaService(stores).set(name, limit);
      if (!set.changed) return void cli.stdout.write('no changes\n');
      cli.stdout.write(`~ tenant ${set.tenant}: daily recipient limit ${limitText(set.before)} → ${limitText(set.after)}\n`);
    });
  });
}
