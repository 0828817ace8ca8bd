/**
 * `relaygate quota show|set`: per-tenant daily recipient quotas, enforced at RCPT TO (550 5.7.232
 * once reached). The running server reads the limit at every RCPT, so a change applies at once.
 */
import type { Command } from 'commander';
import { SqliteQuotaStore } from '../../store/sqlite/delivery-settings.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface QuotaView {
  tenant: string;
  /** null: unlimited. */
  dailyLimit: number | null;
  /** The UTC day the count is for (quotas reset at 00:00 UTC). */
  day: string;
  recipients: number;
}

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

export function register(program: Command, cli: CliContext): void {
  const quota = program.command('quota').description('Per-tenant daily recipient quotas (checked at RCPT TO, reset at 00:00 UTC)');

  addConfigOption(
    quota.command('show').description("Daily recipient limit and today's count per tenant").argument('[tenant]').option('--json', 'machine-readable output'),
  ).action(async (name: string | undefined, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async ({ db, directory }) => {
      let tenants = (await directory.load()).tenants.map((t) => t.name);
      if (name !== undefined) {
        tenants = tenants.filter((t) => t.toLowerCase() === name.toLowerCase());
        if (tenants.length === 0) throw new CliError(`tenant ${name} does not exist`, 'not-found');
      }
      const store = new SqliteQuotaStore(db);
      const day = new Date().toISOString().slice(0, 10);
      const views: QuotaView[] = tenants.map((tenant) => ({ tenant, dailyLimit: store.dailyLimit(tenant), day, recipients: store.count(tenant, day) }));
      if (opts.json) return printJson(cli, name !== undefined ? views[0] : views);
      if (views.length === 0) return void cli.stdout.write('no tenants\n');
      cli.stdout.write(table(['TENANT', 'DAILY LIMIT', `TODAY (${day} UTC)`], views.map((v) => [v.tenant, limitText(v.dailyLimit), String(v.recipients)])));
    });
  });

  addConfigOption(
    quota.command('set').description('Set a tenant\'s daily recipient limit: a number, or "unlimited"').argument('<tenant>').argument('<limit>'),
  ).action(async (name: string, limitValue: string, opts: ConfigOption) => {
    const limit = parseDailyLimit(limitValue);
    await withStores(cli, opts, async ({ db, directory }) => {
      const tenant = (await directory.load()).tenants.find((t) => t.name.toLowerCase() === name.toLowerCase());
      if (!tenant) throw new CliError(`tenant ${name} does not exist`, 'not-found');
      const store = new SqliteQuotaStore(db);
      const before = store.dailyLimit(tenant.name);
      if (before === limit) return void cli.stdout.write('no changes\n');
      store.setDailyLimit(tenant.name, limit);
      cli.stdout.write(`~ tenant ${tenant.name}: daily recipient limit ${limitText(before)} → ${limitText(limit)}\n`);
    });
  });
}
