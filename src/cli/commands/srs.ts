/**
 * `relaygate srs show|set`: per-tenant SRS (rewriting the envelope sender when it is not an accepted
 * domain of the tenant). On by default; the rewrite domain defaults to delivery.srsDomain, else the
 * hostname. Read at delivery time, so changes apply without a restart.
 */
import { Option, type Command } from 'commander';
import { fieldOf } from '../../core/field-error.js';
import { RelaygateError } from '../../core/errors.js';
import type { RelaygateConfig } from '../../config/index.js';
import { SrsService, type SrsView } from '../../delivery/srs-service.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';
import type { Stores } from '../../app/stores.js';

interface SetOptions extends ConfigOption {
  enabled?: boolean;
  disabled?: boolean;
  rewriteDomain?: string;
  defaultDomain?: boolean;
}

function srsService(stores: Stores, config: RelaygateConfig): SrsService {
  return new SrsService({ directory: stores.directory, settings: stores.tenantSettings }, config.delivery.srsDomain ?? config.hostname);
}

function domainText(view: SrsView, service: SrsService): string {
  return view.rewriteDomain ?? `${service.serverRewriteDomain} (server default)`;
}

export function register(program: Command, cli: CliContext): void {
  const srs = program.command('srs').description('Per-tenant SRS: on/off and the rewrite domain');

  addConfigOption(
    srs.command('show').description('SRS setting per tenant').argument('[tenant]').option('--json', 'machine-readable output'),
  ).action(async (name: string | undefined, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async (stores, config) => {
      const service = srsService(stores, config);
      const views = await service.show(name);
      if (opts.json) return printJson(cli, name !== undefined ? views[0] : views);
      if (views.length === 0) return void cli.stdout.write('no tenants\n');
      cli.stdout.write(
        table(['TENANT', 'SRS', 'REWRITE DOMAIN'], views.map((v) => [v.tenant, v.enabled ? 'enabled' : 'disabled', domainText(v, service)])),
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
    const rewriteDomain = opts.rewriteDomain !== undefined ? opts.rewriteDomain : opts.defaultDomain ? null : undefined;
    const enabled = opts.enabled ? true : opts.disabled ? false : undefined;
    if (enabled === undefined && rewriteDomain === undefined) {
      throw new CliError('nothing to change: give --enabled, --disabled, --rewrite-domain or --default-domain');
    }
    await withStores(cli, opts, async (stores, config) => {
      const service = srsService(stores, config);
      const { before, after, changed } = await service
        .set(name, { ...(enabled !== undefined ? { enabled } : {}), ...(rewriteDomain !== undefined ? { rewriteDomain } : {}) })
        .catch((err: unknown) => {
          if (fieldOf(err) === 'rewriteDomain') throw new CliError(`--rewrite-domain: ${(err as RelaygateError).message}`, 'invalid', { cause: err });
          throw err;
        });
      if (!changed) return void cli.stdout.write('no changes\n');
      const changes: string[] = [];
      if (after.enabled !== before.enabled) changes.push(`SRS ${before.enabled ? 'enabled' : 'disabled'} → ${after.enabled ? 'enabled' : 'disabled'}`);
      if (after.rewriteDomain !== before.rewriteDomain) changes.push(`rewrite domain ${domainText(before, service)} → ${domainText(after, service)}`);
      cli.stdout.write(`~ tenant ${after.tenant}: ${changes.join(', ')}\n`);
    });
  });
}
