/**
 * After a change to the directory: the audit findings of what changed (compliance/change-findings.ts:
 * a kind of mail a connector now refuses, with the finding that explains it, and the engine's other
 * findings), on stderr, before the first message is refused. The directory is valid: these never
 * change the exit code.
 */
import type { TenantChangeFindings } from '../compliance/change-findings.js';
import type { CliContext } from './io.js';

/**
 * Prints each tenant's findings. `auditArgs` are the words that make `relaygate check --tenant NAME`
 * read the same directory (`--config FILE`, `--directory FILE`).
 */
export function printChangeFindings(cli: CliContext, findings: readonly TenantChangeFindings[], auditArgs: readonly string[]): void {
  for (const t of findings) {
    for (const f of t.findings) {
      const where = f.connector === null ? `tenant ${t.tenant}` : `tenant ${t.tenant}, connector ${f.connector}`;
      const text = f.code === 'refused-now' ? f.text : `[${f.code}] ${f.text}`;
      cli.stderr.write(`relaygate: warning: ${where}: ${[text, ...f.because.map((b) => b.text)].join('\n  ')}\n`);
    }
    cli.stderr.write(`  The audit with its remedies: relaygate check --tenant ${[t.tenant, ...auditArgs].join(' ')}\n`);
  }
}

/** The words that make `check --tenant` read the store this command used. */
export function storeAuditArgs(config: string | undefined): string[] {
  return config === undefined ? [] : ['--config', config];
}
