import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  DirectoryValidationError,
  findTenant,
  formatChange,
  parseDirectoryYaml,
  serializeDirectoryYaml,
  validateDirectory,
  type Directory,
  type DirectoryChange,
} from '../../directory/index.js';
import { importExchangeOnline, type ExchangeOnlineImport } from '../../exchange/exchange-online-import.js';
import { fileErrorReason } from '../../core/file-error.js';
import { CliError } from '../errors.js';
import type { Tenant } from '../../directory/model.js';
import { withStores } from '../options.js';
import { printChangeFindings } from '../refusal-warnings.js';
import { DirectoryEditService } from '../../compliance/directory-edit-service.js';
import type { TenantChangeFindings } from '../../compliance/change-findings.js';
import { newTenantId } from '../../app/ids.js';
import { cliPath, type CliContext } from '../io.js';

/**
 * `relaygate import exchange-online`: an Exchange Online organization's PowerShell exports → a
 * relaygate tenant, written as tenants.yaml (stdout, or merged into `-o FILE`) or applied to the
 * store with `--apply`. What was read and what was ignored goes to stderr, so stdout stays YAML.
 */
export function register(program: Command, cli: CliContext): void {
  const imp = program.command('import').description('Import configuration from other systems');
  imp
    .command('exchange-online')
    .description('Import an Exchange Online tenant from Get-AcceptedDomain and Get-InboundConnector JSON exports')
    .requiredOption('--accepted-domains <file>', 'output of: Get-AcceptedDomain | ConvertTo-Json -Depth 5')
    .requiredOption('--inbound-connectors <file>', 'output of: Get-InboundConnector | ConvertTo-Json -Depth 5')
    .option('--tenant <name>', 'relaygate tenant name (default: from the initial *.onmicrosoft.com domain)')
    .option('-o, --output <file>', 'write tenants.yaml here (an existing file keeps its other tenants)')
    .option('--apply', 'apply the tenant to the store instead of writing YAML')
    .option('--config <file>', 'relaygate.yaml (with --apply)')
    .action(async (opts: { acceptedDomains: string; inboundConnectors: string; tenant?: string; output?: string; apply?: boolean; config?: string }) => {
      if (opts.apply && opts.output) throw new CliError('give either --apply or -o FILE, not both');
      const result = await importExchangeOnline({
        acceptedDomains: cliPath(cli, opts.acceptedDomains),
        inboundConnectors: cliPath(cli, opts.inboundConnectors),
        tenant: opts.tenant,
      });
      cli.stderr.write(importSummary(result));
      if (opts.apply) {
        const auditArgs = opts.config === undefined ? [] : ['--config', opts.config];
        const { changes, findings } = await applyImportedTenant(cli, result.tenant, opts.config);
        cli.stderr.write(changes.length === 0 ? 'The store already matches: nothing changed.\n' : `Applied to the store:\n  ${changes.map(formatChange).join('\n  ')}\n`);
        printChangeFindings(cli, findings, auditArgs);
        cli.stderr.write(nextSteps(result.tenant.name, auditArgs));
        return;
      }
      if (opts.output) {
        const merged = await mergeIntoFile(cliPath(cli, opts.output), result.directory);
        try {
          await writeFile(cliPath(cli, opts.output), serializeDirectoryYaml(merged.directory));
        } catch (err) {
          throw new CliError(`-o ${opts.output}: ${fileErrorReason(err)}`, 'invalid', { cause: err });
        }
        cli.stderr.write(`${merged.replaced ? 'Replaced' : 'Added'} tenant ${result.tenant.name} in ${opts.output}.\n`);
        cli.stderr.write(nextSteps(result.tenant.name, ['--directory', opts.output]));
        return;
      }
      cli.stdout.write(serializeDirectoryYaml(replaceTenant({ tenants: [] }, result.tenant).directory));
    });
}

export function importSummary(r: ExchangeOnlineImport): string {
  const t = r.tenant;
  const onPrem = t.inboundConnectors.filter((c) => c.type === 'OnPremises').length;
  const partner = t.inboundConnectors.length - onPrem;
  const disabled = t.inboundConnectors.filter((c) => !c.enabled).length;
  const lines = [
    `Imported tenant ${t.name}: ${t.acceptedDomains.length} accepted domain(s), ${t.inboundConnectors.length} inbound connector(s) ` +
      `(${onPrem} OnPremises, ${partner} Partner, ${disabled} disabled).`,
  ];
  if (r.ignored.length > 0) {
    lines.push('Ignored (properties relaygate does not model):');
    for (const g of r.ignored) lines.push(`  ${g.cmdlet}: ${g.properties.join(', ')}`);
  }
  if (r.notes.length > 0) {
    lines.push('Notes:');
    for (const n of r.notes) lines.push(`  - ${n}`);
  }
  return lines.join('\n') + '\n';
}

/** The checks to run next, on the directory just written: `where` is `--config FILE` as given, or `--directory FILE`. */
function nextSteps(tenant: string, where: readonly string[]): string {
  const dir = where.map((w) => ` ${w}`).join('');
  return `Next: relaygate check --tenant ${tenant}${dir}   (audit of the configuration)\n` +
    `      relaygate check --message-trace trace.csv --tenant ${tenant}${dir}   (impact on real traffic)\n`;
}

/** The file's directory with the imported tenant replacing the one of the same name, or added. */
async function mergeIntoFile(file: string, imported: Directory): Promise<{ directory: Directory; replaced: boolean }> {
  if (!existsSync(file)) return { directory: replaceTenant({ tenants: [] }, imported.tenants[0]!).directory, replaced: false };
  let existing: Directory;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`-o ${file}: ${fileErrorReason(err)}`, 'invalid', { cause: err });
  }
  try {
    existing = parseDirectoryYaml(text);
  } catch (err) {
    if (err instanceof DirectoryValidationError) throw new CliError(`${file}: ${err.message}`);
    throw err;
  }
  const tenant = imported.tenants[0]!;
  const merged = replaceTenant(existing, tenant);
  try {
    return { directory: validateDirectory(merged.directory), replaced: merged.replaced };
  } catch (err) {
    if (err instanceof DirectoryValidationError) throw new CliError(`${file} with tenant ${tenant.name} imported: ${err.message}`);
    throw err;
  }
}

/** Replaces (or adds) the tenant in the store's directory, in one transaction; returns the changes and the new directory. */
async function applyImportedTenant(cli: CliContext, tenant: Tenant, config: string | undefined): Promise<{ changes: DirectoryChange[]; findings: TenantChangeFindings[] }> {
  return await withStores(cli, { config }, async (stores) => {
    const merged = replaceTenant(await stores.directory.load(), tenant);
    try {
      return await new DirectoryEditService({ directory: stores.directory }).replace(merged.directory);
    } catch (err) {
      if (err instanceof DirectoryValidationError) throw new CliError(`the store with tenant ${tenant.name} imported: ${err.message}`);
      throw err;
    }
  });
}

/**
 * The imported tenant takes the place (and keeps the id) of the tenant of the same name, or is added
 * with a new id, so applying the written file and exporting gives the same file back.
 */
function replaceTenant(dir: Directory, tenant: Tenant): { directory: Directory; replaced: boolean } {
  const existing = findTenant(dir, tenant.name);
  const kept = { ...tenant, id: existing?.id ?? newTenantId() };
  const tenants = existing === undefined ? [...dir.tenants, kept] : dir.tenants.map((t) => (t === existing ? kept : t));
  return { directory: { tenants }, replaced: existing !== undefined };
}
