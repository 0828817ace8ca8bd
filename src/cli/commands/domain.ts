import { Option, type Command } from 'commander';
import { printChanges, selectTenants, table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { printChangeFindings, storeAuditArgs } from '../refusal-warnings.js';
import { DirectoryEditService } from '../../compliance/directory-edit-service.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface JsonOption extends ConfigOption {
  json?: boolean;
}

export function register(program: Command, cli: CliContext): void {
  const domain = program.command('domain').description('List, add and remove accepted domains');

  addConfigOption(
    domain
      .command('list')
      .description('List accepted domains')
      .option('--tenant <name>', 'only this tenant\'s')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: JsonOption & { tenant?: string }) => {
    await withStores(cli, opts, async ({ directory }) => {
      const tenants = selectTenants((await directory.load()).tenants, opts.tenant);
      const rows = tenants.flatMap((t) => t.acceptedDomains.map((d) => ({ tenant: t.name, ...d })));
      if (opts.json) return printJson(cli, rows);
      if (rows.length === 0) return void cli.stdout.write('no accepted domains\n');
      cli.stdout.write(table(['DOMAIN', 'TYPE', 'MATCH SUBDOMAINS', 'TENANT'], rows.map((r) => [r.domain, r.type, String(r.matchSubDomains), r.tenant])));
    });
  });

  addConfigOption(
    domain
      .command('add')
      .description('Add an accepted domain to a tenant')
      .argument('<tenant>')
      .argument('<domain>')
      .addOption(new Option('--type <type>', 'domain type').choices(['Authoritative', 'InternalRelay']).default('Authoritative'))
      .option('--match-subdomains', 'every subdomain counts as accepted too (InternalRelay only)')
      .option('--json', 'machine-readable output'),
  ).action(async (tenant: string, name: string, opts: JsonOption & { type: 'Authoritative' | 'InternalRelay'; matchSubdomains?: boolean }) => {
    await withStores(cli, opts, async ({ directory }) => {
      const { changes, findings } = await new DirectoryEditService({ directory }).addDomain(tenant, { domain: name, type: opts.type, matchSubDomains: opts.matchSubdomains === true });
      printChanges(cli, changes, { json: opts.json });
      printChangeFindings(cli, findings, storeAuditArgs(opts.config));
    });
  });

  addConfigOption(
    domain.command('remove').description('Remove an accepted domain').argument('<domain>').option('--json', 'machine-readable output'),
  ).action(async (name: string, opts: JsonOption) => {
    await withStores(cli, opts, async ({ directory }) => {
      const { changes, findings } = await new DirectoryEditService({ directory }).removeDomain(name);
      printChanges(cli, changes, { json: opts.json });
      printChangeFindings(cli, findings, storeAuditArgs(opts.config));
    });
  });
}
