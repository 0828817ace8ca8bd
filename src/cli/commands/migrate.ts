import type { Command } from 'commander';
import { printJson, addConfigOption, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

export function register(program: Command, cli: CliContext): void {
  addConfigOption(
    program
      .command('migrate')
      .description('Create the database if needed and apply pending schema migrations (serve does this too)')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const applied = await stores.migrations();
      const database = stores.location;
      if (opts.json) {
        printJson(cli, { database, migrations: applied });
        return;
      }
      const last = applied.at(-1)?.version ?? 0;
      const lines = applied.map((m) => `  ${String(m.version).padStart(3, '0')} ${m.name} (applied ${m.appliedAt})`);
      cli.stdout.write(`${database}: schema version ${last}\n${lines.join('\n')}\n`);
    });
  });
}
