import { Option, type Command } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import { findTenant, hostBitsNote, type ConnectorInput } from '../../directory/index.js';
import { hostBitsCleared } from '../../core/ip-prefix.js';
import { printChanges, selectTenants, table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { printChangeFindings, storeAuditArgs } from '../refusal-warnings.js';
import { DirectoryEditService } from '../../compliance/directory-edit-service.js';
import type { ConnectorPatch } from '../../store/ports.js';
import { addConfigOption, collect, parseBoolean, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';
import { ConnectorHealthService } from '../../health/health-service.js';
import { renderHealthReport } from '../health-output.js';
import { parseInstant } from '../../compliance/scenario.js';

interface JsonOption extends ConfigOption {
  json?: boolean;
}

interface ConnectorOptions extends JsonOption {
  type: 'OnPremises' | 'Partner';
  ip: string[];
  certName?: string;
  requireTls?: boolean;
  disabled?: boolean;
  restrictToIp?: boolean;
  restrictToCertificate?: boolean;
  senderDomain: string[];
  treatAsInternal?: boolean;
  cloudServicesMail?: boolean;
  bareLineEndings: 'reject' | 'normalize';
  comment?: string;
}

interface SetOptions extends JsonOption {
  enabled?: boolean;
  ip?: string[];
  ips?: boolean;
  certName?: string;
  requireTls?: boolean;
  restrictToIp?: boolean;
  restrictToCertificate?: boolean;
  senderDomain?: string[];
  treatAsInternal?: boolean;
  cloudServicesMail?: boolean;
  bareLineEndings?: 'reject' | 'normalize';
  comment?: string;
}

export function register(program: Command, cli: CliContext): void {
  const connector = program.command('connector').description('List, show, add, change and remove inbound connectors');

  addConfigOption(
    connector
      .command('list')
      .description('List inbound connectors')
      .option('--tenant <name>', 'only this tenant\'s')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: JsonOption & { tenant?: string }) => {
    await withStores(cli, opts, async ({ directory }) => {
      const tenants = selectTenants((await directory.load()).tenants, opts.tenant);
      const rows = tenants.flatMap((t) => t.inboundConnectors.map((c) => ({ tenant: t.name, ...c })));
      if (opts.json) return printJson(cli, rows);
      if (rows.length === 0) return void cli.stdout.write('no connectors\n');
      cli.stdout.write(
        table(
          ['TENANT', 'NAME', 'TYPE', 'ENABLED', 'SENDER IPS', 'CERTIFICATE NAME'],
          rows.map((r) => [r.tenant, r.name, r.type, String(r.enabled), r.senderIPAddresses.join(',') || '-', r.tlsSenderCertificateName ?? '-']),
        ),
      );
    });
  });

  addConfigOption(
    connector
      .command('health')
      .description('What each connector saw (traffic per day, client certificates, source addresses) and the warnings')
      .option('--tenant <name>', 'only this tenant\'s')
      .option('--at <instant>', 'ISO 8601 instant the warnings are judged at (default: now)')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: JsonOption & { tenant?: string; at?: string }) => {
    const now = new Date();
    const at = parseInstant(opts.at, now, '--at');
    await withStores(cli, opts, async (stores) => {
      const report = await new ConnectorHealthService({ directory: stores.directory, health: stores.connectorHealth, clock: { now: () => at } }).report(opts.tenant === undefined ? {} : { tenant: opts.tenant });
      if (opts.json) printJson(cli, report);
      else cli.stdout.write(renderHealthReport(report));
      if (report.warnings.length > 0) cli.exitCode = 1;
    });
  });

  addConfigOption(
    connector
      .command('show')
      .description('Show one connector with every setting')
      .argument('<tenant>')
      .argument('<name>')
      .option('--json', 'machine-readable output'),
  ).action(async (tenantName: string, name: string, opts: JsonOption) => {
    await withStores(cli, opts, async ({ directory }) => {
      const t = findTenant(await directory.load(), tenantName);
      if (!t) throw new CliError(`tenant ${tenantName} does not exist`, 'not-found');
      const c = t.inboundConnectors.find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (!c) throw new CliError(`tenant ${t.name} has no connector ${name}`, 'not-found');
      if (opts.json) return printJson(cli, { tenant: t.name, ...c });
      cli.stdout.write(stringifyYaml({ tenant: t.name, ...c }, { lineWidth: 0 }));
    });
  });

  addConfigOption(
    connector
      .command('add')
      .description('Add an inbound connector to a tenant')
      .argument('<tenant>')
      .argument('<name>')
      .addOption(new Option('--type <type>', 'connector type').choices(['OnPremises', 'Partner']).makeOptionMandatory())
      .option('--ip <address>', 'sender IP address or CIDR range (repeatable)', collect, [])
      .option('--cert-name <name>', 'tlsSenderCertificateName: a host name or *.parent')
      .option('--require-tls', 'refuse mail without TLS')
      .option('--disabled', 'add it disabled')
      .option('--restrict-to-ip', 'restrictDomainsToIPAddresses (Partner)')
      .option('--restrict-to-certificate', 'restrictDomainsToCertificate (Partner)')
      .option('--sender-domain <domain>', 'senderDomains entry: a domain, *.domain or * (repeatable; default *)', collect, [])
      .option('--treat-as-internal', 'treatMessagesAsInternal (OnPremises)')
      .option('--cloud-services-mail', 'cloudServicesMailEnabled')
      .addOption(new Option('--bare-line-endings <policy>', 'allowBareLineEndings').choices(['reject', 'normalize']).default('reject'))
      .option('--comment <text>', 'a note for admins')
      .option('--json', 'machine-readable output'),
  ).action(async (tenant: string, name: string, opts: ConnectorOptions) => {
    const input: ConnectorInput = {
      name,
      type: opts.type,
      enabled: opts.disabled !== true,
      senderIPAddresses: opts.ip,
      tlsSenderCertificateName: opts.certName ?? null,
      requireTls: opts.requireTls === true,
      restrictDomainsToIPAddresses: opts.restrictToIp === true,
      restrictDomainsToCertificate: opts.restrictToCertificate === true,
      ...(opts.senderDomain.length > 0 ? { senderDomains: opts.senderDomain } : {}),
      treatMessagesAsInternal: opts.treatAsInternal === true,
      cloudServicesMailEnabled: opts.cloudServicesMail === true,
      allowBareLineEndings: opts.bareLineEndings,
      comment: opts.comment ?? '',
    };
    warnAboutHostBits(cli, opts.ip);
    await withStores(cli, opts, async ({ directory }) => {
      const { changes, findings } = await new DirectoryEditService({ directory }).addConnector(tenant, input);
      printChanges(cli, changes, { json: opts.json });
      printChangeFindings(cli, findings, storeAuditArgs(opts.config));
    });
  });

  addConfigOption(
    connector
      .command('set')
      .description('Change settings of an inbound connector; lists given replace the whole list')
      .argument('<tenant>')
      .argument('<name>')
      .option('--enabled <bool>', 'enabled', parseBoolean)
      .option('--ip <address>', 'sender IP address or CIDR range (repeatable; replaces the list)', collect)
      .option('--no-ips', 'remove every sender IP address')
      .option('--cert-name <name>', 'tlsSenderCertificateName; "none" removes it')
      .option('--require-tls <bool>', 'requireTls', parseBoolean)
      .option('--restrict-to-ip <bool>', 'restrictDomainsToIPAddresses', parseBoolean)
      .option('--restrict-to-certificate <bool>', 'restrictDomainsToCertificate', parseBoolean)
      .option('--sender-domain <domain>', 'senderDomains entry (repeatable; replaces the list)', collect)
      .option('--treat-as-internal <bool>', 'treatMessagesAsInternal', parseBoolean)
      .option('--cloud-services-mail <bool>', 'cloudServicesMailEnabled', parseBoolean)
      .addOption(new Option('--bare-line-endings <policy>', 'allowBareLineEndings').choices(['reject', 'normalize']))
      .option('--comment <text>', 'a note for admins')
      .option('--json', 'machine-readable output'),
  ).action(async (tenant: string, name: string, opts: SetOptions) => {
    const patch: ConnectorPatch = {};
    if (opts.enabled !== undefined) patch.enabled = opts.enabled;
    if (opts.ips === false) patch.senderIPAddresses = [];
    if (opts.ip !== undefined) patch.senderIPAddresses = opts.ip;
    if (opts.certName !== undefined) patch.tlsSenderCertificateName = opts.certName === 'none' ? null : opts.certName;
    if (opts.requireTls !== undefined) patch.requireTls = opts.requireTls;
    if (opts.restrictToIp !== undefined) patch.restrictDomainsToIPAddresses = opts.restrictToIp;
    if (opts.restrictToCertificate !== undefined) patch.restrictDomainsToCertificate = opts.restrictToCertificate;
    if (opts.senderDomain !== undefined) patch.senderDomains = opts.senderDomain;
    if (opts.treatAsInternal !== undefined) patch.treatMessagesAsInternal = opts.treatAsInternal;
    if (opts.cloudServicesMail !== undefined) patch.cloudServicesMailEnabled = opts.cloudServicesMail;
    if (opts.bareLineEndings !== undefined) patch.allowBareLineEndings = opts.bareLineEndings;
    if (opts.comment !== undefined) patch.comment = opts.comment;
    if (Object.keys(patch).length === 0) throw new CliError('nothing to change: give at least one setting (see --help)');
    warnAboutHostBits(cli, opts.ip ?? []);
    await withStores(cli, opts, async ({ directory }) => {
      const { changes, findings } = await new DirectoryEditService({ directory }).updateConnector(tenant, name, patch);
      printChanges(cli, changes, { json: opts.json });
      printChangeFindings(cli, findings, storeAuditArgs(opts.config));
    });
  });

  addConfigOption(
    connector
      .command('remove')
      .description('Remove an inbound connector')
      .argument('<tenant>')
      .argument('<name>')
      .option('--json', 'machine-readable output'),
  ).action(async (tenant: string, name: string, opts: JsonOption) => {
    await withStores(cli, opts, async ({ directory }) => {
      const { changes, findings } = await new DirectoryEditService({ directory }).removeConnector(tenant, name);
      printChanges(cli, changes, { json: opts.json });
      printChangeFindings(cli, findings, storeAuditArgs(opts.config));
    });
  });
}

/** An --ip range written with host bits set is stored as its network: say so. */
function warnAboutHostBits(cli: CliContext, ips: readonly string[]): void {
  for (const ip of ips) {
    const cleared = hostBitsCleared(ip);
    if (cleared) cli.stderr.write(`relaygate: warning: --ip ${hostBitsNote(ip, cleared)}\n`);
  }
}
