/**
 * `relaygate headers show|set`: per tenant, whether mail relayed to outside recipients keeps our
 * X-Relaygate-* fields (`strip` by default; inbound and internal recipients always get them). Read
 * at delivery time, so a change applies without a restart.
 */
import { Option, type Command } from 'commander';
import { RelayedHeadersService } from '../../delivery/relayed-headers-service.js';
import { table } from '../directory-output.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

const word = (keep: boolean): string => (keep ? 'keep' : 'strip');

export function register(program: Command, cli: CliContext): void {
  const headers = program.command('headers').description('Per-tenant X-Relaygate-* fields on relayed mail: keep or strip');

  addConfigOption(
    headers.command('show').description('X-Relaygate-* fields on relayed mail, per tenant').argument('[tenant]').option('--json', 'machine-readable output'),
  ).action(async (name: string | undefined, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const views = await new RelayedHeadersService({ directory: stores.directory, settings: stores.tenantSettings }).show(name);
      if (opts.json) return printJson(cli, name !== undefined ? views[0] : views);
      if (views.length === 0) return void cli.stdout.write('no tenants\n');
      cli.stdout.write(table(['TENANT', 'RELAYED'], views.map((v) => [v.tenant, word(v.keep)])));
    });
  });

  addConfigOption(
    headers
      .command('set')
      .description("Change whether a tenant's relayed mail keeps the X-Relaygate-* fields")
      .argument('<tenant>')
      .addOption(
        new Option('--relayed <choice>', 'keep: outside recipients get them too; strip: removed before DKIM signing (the default)')
          .choices(['keep', 'strip'])
          .makeOptionMandatory(),
      ),
  ).action(async (name: string, opts: ConfigOption & { relayed: 'keep' | 'strip' }) => {
    await withStores(cli, opts, async (stores) => {
      const service = new RelayedHeadersService({ directory: stores.directory, settings: stores.tenantSettings });
      const { before, after, changed } = await service.set(name, opts.relayed === 'keep');
      if (!changed) return void cli.stdout.write('no changes\n');
      cli.stdout.write(`~ tenant ${after.tenant}: X-Relaygate-* on relayed mail ${word(before.keep)} → ${word(after.keep)}\n`);
    });
  });
}
