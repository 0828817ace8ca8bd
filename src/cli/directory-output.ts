/** How the directory commands show change lists and items to people. */
import { findTenant, formatChange, type DirectoryChange, type Tenant } from '../directory/index.js';
import { CliError } from './errors.js';
import type { CliContext } from './io.js';
import { printJson } from './options.js';

export function printChanges(cli: CliContext, changes: readonly DirectoryChange[], opts: { json?: boolean; dryRun?: boolean; revision?: number }): void {
  if (opts.json) {
    printJson(cli, { dryRun: opts.dryRun === true, changes, ...(opts.revision === undefined ? {} : { revision: opts.revision }) });
    return;
  }
  if (changes.length === 0) {
    cli.stdout.write('no changes\n');
    return;
  }
  const lines = changes.map(formatChange);
  const n = `${changes.length} ${changes.length === 1 ? 'change' : 'changes'}`;
  const summary = opts.dryRun ? `dry run: ${n}, nothing written` : `${n} applied`;
  cli.stdout.write(`${lines.join('\n')}\n${summary}\n`);
}

/** Aligned columns with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The tenants a `list --tenant NAME` asks for (all without a name); an unknown name is exit 1. */
export function selectTenants(tenants: readonly Tenant[], name: string | undefined): readonly Tenant[] {
  if (name === undefined) return tenants;
  const found = findTenant({ tenants }, name);
  if (found === undefined) throw new CliError(`tenant ${name} does not exist`, 'not-found');
  return [found];
}
