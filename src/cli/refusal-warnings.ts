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
  const touched = new Set(changes.map((c) => c.tenant.toLowerCase()));
  const snapshot = buildSnapshot(directory);
  for (const tenant of directory.tenants) {
    if (!touched.has(tenant.name.toLowerCase())) continue;
    const warnings = refusalWarnings(auditTenant(snapshot, tenant, at));
    if (warnings.length === 0) continue;
    for (const w of warnings) cli.stderr.write(`relaygate: warning: ${w}\n`);
    cli.stderr.write(`  The audit with its remedies: relaygate check --tenant ${[tenant.name, ...auditArgs].join(' ')}\n`);
  }
}
