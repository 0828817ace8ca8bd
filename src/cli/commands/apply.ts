import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DirectoryValidationError, readDirectoryYaml } from '../../directory/index.js';
import { printChanges } from '../directory-output.js';
import { fileErrorReason } from '../../core/file-error.js';
import { CliError } from '../errors.js';
import { printChangeFindings } from '../refusal-warnings.js';
import { DirectoryEditService } from '../../compliance/directory-edit-service.js';
import { addConfigOption, withStores, type ConfigOption } from '../options.js';
import { cliPath, type CliContext } from '../io.js';

interface ApplyOptions extends ConfigOption {
  file: string;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command, cli: CliContext): void {
  addConfigOption(
    program
      .command('apply')
      .description('Make the store\'s directory match a tenants.yaml file, in one transaction')
      .requiredOption('-f, --file <file>', 'tenants.yaml to apply')
      .option('--dry-run', 'print the changes without writing them')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ApplyOptions) => {
    let text: string;
    try {
      text = readFileSync(cliPath(cli, opts.file), 'utf8');
    } catch (err) {
      throw new CliError(`-f ${opts.file}: ${fileErrorReason(err)}`, 'invalid', { cause: err });
    }
    let read;
    try {
      read = readDirectoryYaml(text);
    } catch (err) {
      if (err instanceof DirectoryValidationError) throw new CliError(`${opts.file}: ${err.message}`);
      throw err;
    }
    const dir = read.directory;
    for (const note of read.notes) cli.stderr.write(`relaygate: warning: ${opts.file}: ${note}\n`);
    await withStores(cli, opts, async ({ directory }) => {
      const { changes, findings, revision } = await new DirectoryEditService({ directory }).replace(dir, { dryRun: opts.dryRun === true });
      printChanges(cli, changes, { json: opts.json, dryRun: opts.dryRun, revision });
      // After a dry run the store does not hold the file yet: the audit reads the file.
      const auditArgs = opts.dryRun ? ['--directory', opts.file] : opts.config === undefined ? [] : ['--config', opts.config];
      printChangeFindings(cli, findings, auditArgs);
    });
  });
}
