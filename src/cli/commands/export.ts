import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { serializeDirectoryYaml } from '../../directory/index.js';
import { fileErrorReason } from '../../core/file-error.js';
import { CliError } from '../errors.js';
import { addConfigOption, withStores, type ConfigOption } from '../options.js';
import { cliPath, type CliContext } from '../io.js';

export function register(program: Command, cli: CliContext): void {
  addConfigOption(
    program
      .command('export')
      .description('Write the store\'s directory as tenants.yaml (what `apply -f` reads)')
      .option('-o, --output <file>', 'write to this file instead of standard output'),
  ).action(async (opts: ConfigOption & { output?: string }) => {
    const text = await withStores(cli, opts, async ({ directory }) => serializeDirectoryYaml(await directory.load()));
    if (opts.output === undefined) {
      cli.stdout.write(text);
      return;
    }
    try {
      writeFileSync(cliPath(cli, opts.output), text);
    } catch (err) {
      throw new CliError(`-o ${opts.output}: ${fileErrorReason(err)}`, 'invalid', { cause: err });
    }
  });
}
