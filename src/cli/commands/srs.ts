/**
 * `relaygate srs show|set`: per-tenant SRS (rewriting the envelope sender when it is not an accepted
 * domain of the tenant). On by default; the rewrite domain defaults to delivery.srsDomain, else the
 * hostname. Read at delivery time, so changes apply without a restart.
 */
import { Option, type Command } from 'commander';
import { normalizeDomain } from '../../core/domain.js';
import type { RelaygateConfig } from '../../config/index.js';
import { SqliteSrsSettings, type TenantSrsSetting } from '../../store/sqlite/delivery-settings.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface SetOptions extends ConfigOption {
  enabled?: boolean;
  disabled?: boolean;
  rewriteDomain?: string;
  defaultDomain?: boolean;
}

function serverDomain(config: RelaygateConfig): string {
  return config.delivery.srsDomain ?? config.hostname;
}

function domainText(setting: TenantSrsSetting, config: RelaygateConfig): string {
  return setting.rewriteDomain ?? `${serverDomain(config)} (server default)`;
}

export function register(program: Command, cli: CliContext): void {
  const srs = program.command('srs').description('Per-tenant SRS: on/off and the rewrite domain');

  addConfigOption(
    srs.command('show').description('SRS setting per tenant').argument('[tenant]').option('--json', 'machine-readable output'),
  ).action(async (name: string | undefined, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async ({ db, directory }, config) => {
      let tenants = (await directory.load()).tenants.map((t) => t.name);
      if (name !== undefined) {
        tenants = tenants.filter((t) => t.toLowerCase() === name.toLowerCase());
        if (tenants.length === 0) throw new CliError(`tenant ${name} does not exist`, 'not-found');
      }
      const settings = new SqliteSrsSettings(db);
      const views = tenants.map((tenant) => {
        const s = settings.settingFor(tenant);
        return { tenant, enabled: s.enabled, rewriteDomain: s.rewriteDomain, effectiveRewriteDomain: s.rewriteDomain ?? serverDomain(config) };
      });
      if (opts.json) return printJson(cli, name !== undefined ? views[0] : views);
      if (views.length === 0) return void cli.stdout.write('no tenants\n');
      cli.stdout.write(
        table(['TENANT', 'SRS', 'REWRITE DOMAIN'], views.map((v) => [v.tenant, v.enabled ? 'enabled' : 'disabled', domainText(v, config)])),
      );
    });
  });

  addConfigOption(
    srs
      .command('set')
      .description("Change a tenant's SRS setting")
      .argument('<tenant>')
      .addOption(new Option('--enabled', 'rewrite senders outside the tenant\'s accepted domains').conflicts('disabled'))
      .addOption(new Option('--disabled', 'never rewrite this tenant\'s senders'))
      .addOption(new Option('--rewrite-domain <domain>', 'the domain rewritten senders get (its MX must point at this relay)').conflicts('defaultDomain'))
      .addOption(new Option('--default-domain', 'use the server\'s rewrite domain (delivery.srsDomain, else hostname)')),
  ).action(async (name: string, opts: SetOptions) => {
    let rewriteDomain: string | null | undefined;
    if (opts.rewriteDomain !== undefined) {
      rewriteDomain = normalizeDomain(opts.rewriteDomain);
      if (rewriteDomain === null) throw new CliError(`--rewrite-domain: not a domain name: ${JSON.stringify(opts.rewriteDomain)}`);
    } else if (opts.defaultDomain) rewriteDomain = null;
    const enabled = opts.enabled ? true : opts.disabled ? false : undefined;
    if (enabled === undefined && rewriteDomain === undefined) {
      throw new CliError('nothing to change: give --enabled, --disabled, --rewrite-domain or --default-domain');
    }
    await withStores(cli, opts, async ({ db, directory }, config) => {
      const tenant = (await directory.load()).tenants.find((t) => t.name.toLowerCase() === name.toLowerCase());
      if (!tenant) throw new CliError(`tenant ${name} does not exist`, 'not-found');
      const settings = new SqliteSrsSettings(db);
      const before = settings.settingFor(tenant.name);
      const after: TenantSrsSetting = { enabled: enabled ?? before.enabled, rewriteDomain: rewriteDomain === undefined ? before.rewriteDomain : rewriteDomain };
      const changes: string[] = [];
      if (after.enabled !== before.enabled) changes.push(`SRS ${before.enabled ? 'enabled' : 'disabled'} → ${after.enabled ? 'enabled' : 'disabled'}`);
      if (after.rewriteDomain !== before.rewriteDomain) changes.push(`rewrite domain ${domainText(before, config)} → ${domainText(after, config)}`);
      if (changes.length === 0) return void cli.stdout.write('no changes\n');
      settings.set(tenant.name, after);
      cli.stdout.write(`~ tenant ${tenant.name}: ${changes.join(', ')}\n`);
    });
  });
}
