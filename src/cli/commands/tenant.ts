import { Option, type Command } from 'commander';
import { findTenant, serializeDirectoryYaml } from '../../directory/index.js';
import { printChanges, table } from '../directory-output.js';
import { CliError } from '../errors.js';
import type { TenantPatch } from '../../store/ports.js';
import { addConfigOption, parseBoolean, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface JsonOption extends ConfigOption {
  json?: boolean;
}

export function register(program: Command, cli: CliContext): void {
  const tenant = program.command('tenant').description('List, show, add, change and remove tenants');

  addConfigOption(tenant.command('list').description('List tenants').option('--json', 'machine-readable output')).action(
    async (opts: JsonOption) => {
      await withStores(cli, opts, async ({ directory }) => {
        const { tenants } = await directory.load();
        if (opts.json) return printJson(cli, tenants);
        if (tenants.length === 0) return void cli.stdout.write('no tenants\n');
        cli.stdout.write(
          table(
            ['NAME', 'RULE SET', 'REJECT DIRECT SEND', 'DOMAINS', 'CONNECTORS'],
            tenants.map((t) => [t.name, t.relayRuleSet, String(t.rejectDirectSend), String(t.acceptedDomains.length), String(t.inboundConnectors.length)]),
          ),
        );
      });
    },
  );

  addConfigOption(
    tenant.command('show').description('Show one tenant (as tenants.yaml)').argument('<name>').option('--json', 'machine-readable output'),
  ).action(async (name: string, opts: JsonOption) => {
    await withStores(cli, opts, async ({ directory }) => {
      const found = findTenant(await directory.load(), name);
      if (!found) throw new CliError(`tenant ${name} does not exist`, 'not-found');
      // The settings only, as one would write them; the id is in `tenant list --json` and `export`.
      const { id: _id, ...t } = found;
      if (opts.json) printJson(cli, t);
      else cli.stdout.write(serializeDirectoryYaml({ tenants: [t] }));
    });
  });

  addConfigOption(
    tenant
      .command('add')
      .description('Add a tenant (then add its domains and connectors)')
      .argument('<name>')
      .addOption(new Option('--rule-set <set>', 'relay rule set').choices(['auto', '2023-11', 'legacy']).default('auto'))
      .option('--reject-direct-send', 'refuse Direct Send from unauthorized sources (5.7.68)')
      .option('--json', 'machine-readable output'),
  ).action(async (name: string, opts: JsonOption & { ruleSet: 'auto' | '2023-11' | 'legacy'; rejectDirectSend?: boolean }) => {
    await withStores(cli, opts, async ({ directory }) => {
      const changes = await directory.addTenant({ name, relayRuleSet: opts.ruleSet, rejectDirectSend: opts.rejectDirectSend === true });
      printChanges(cli, changes, { json: opts.json });
    });
  });

  addConfigOption(
    tenant
      .command('set')
      .description('Change a tenant\'s settings')
      .argument('<name>')
      .addOption(new Option('--rule-set <set>', 'relay rule set').choices(['auto', '2023-11', 'legacy']))
      .option('--reject-direct-send <bool>', 'refuse Direct Send from unauthorized sources (5.7.68)', parseBoolean)
      .option('--json', 'machine-readable output'),
  ).action(async (name: string, opts: JsonOption & { ruleSet?: 'auto' | '2023-11' | 'legacy'; rejectDirectSend?: boolean }) => {
    const patch: TenantPatch = {};
    if (opts.ruleSet !== undefined) patch.relayRuleSet = opts.ruleSet;
    if (opts.rejectDirectSend !== undefined) patch.rejectDirectSend = opts.rejectDirectSend;
    if (Object.keys(patch).length === 0) throw new CliError('nothing to change: give --rule-set or --reject-direct-send');
    await withStores(cli, opts, async ({ directory }) => printChanges(cli, await directory.updateTenant(name, patch), { json: opts.json }));
  });

  addConfigOption(
    tenant
      .command('remove')
      .description('Remove a tenant with its domains and connectors')
      .argument('<name>')
      .option('--json', 'machine-readable output'),
  ).action(async (name: string, opts: JsonOption) => {
    await withStores(cli, opts, async ({ directory }) => printChanges(cli, await directory.removeTenant(name), { json: opts.json }));
  });
}
