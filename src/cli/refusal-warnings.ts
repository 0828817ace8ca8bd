/**
 * After a change to the directory: the warnings of the tenant audit about mail that will be refused
 * (a null-sender bounce over a certificate connector whose name is not accepted, ...), on stderr,
 * before the first message is. The directory is valid: these never change the exit code.
 */
import { auditTenant, refusalWarnings } from '../compliance/audit.js';
import type { Directory, DirectoryChange } from '../directory/index.js';
import { buildSnapshot } from '../policy/index.js';
import type { CliContext } from './io.js';

/**
 * Warns for each tenant the changes touch. `auditArgs` are the words that make
 * `relaygate check --tenant NAME` read the same directory (`--config FILE`, `--directory FILE`).
 */
export function warnAboutRefusals(cli: CliContext, directory: Directory, changes: readonly DirectoryChange[], auditArgs: readonly string[], at: Date): void {
  const touched = touchedConnectors(changes);
  const snapshot = buildSnapshot(directory);
  for (const tenant of directory.tenants) {
    const key = tenant.name.toLowerCase();
    if (!touched.has(key)) continue;
    const warnings = refusalWarnings(auditTenant(snapshot, tenant, at), touched.get(key)!);
    if (warnings.length === 0) continue;
    for (const w of warnings) cli.stderr.write(`relaygate: warning: ${w}\n`);
    cli.stderr.write(`  The audit with its remedies: relaygate check --tenant ${[tenant.name, ...auditArgs].join(' ')}\n`);
  }
}

/**
 * Per tenant (lower case) the connectors (lower case) the changes touch; null when a change to the
 * tenant or its domains can change what any of its connectors relays.
 */
function touchedConnectors(changes: readonly DirectoryChange[]): Map<string, Set<string> | null> {
  const touched = new Map<string, Set<string> | null>();
  for (const c of changes) {
    const key = c.tenant.toLowerCase();
    if (c.entity !== 'connector') touched.set(key, null);
    else if (touched.get(key) !== null) touched.set(key, (touched.get(key) ?? new Set<string>()).add(c.name.toLowerCase()));
  }
  return touched;
}

/** After an edit of the store's directory: its refusals for the tenants the changes touch. */
export async function warnAfterEdit(cli: CliContext, directory: { load(): Promise<Directory> }, changes: readonly DirectoryChange[], config: string | undefined): Promise<void> {
  if (changes.length === 0) return;
  warnAboutRefusals(cli, await directory.load(), changes, config === undefined ? [] : ['--config', config], new Date());
}
