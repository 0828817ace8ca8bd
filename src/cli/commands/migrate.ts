import type { Command } from 'commander';
import { sqlitePath } from '../../app/stores.js';
import { printJson, addConfigOption, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface AppliedMigration {
  version: number;
  name: string;
  applied_at: string;
}

export function register(program: Command, cli: CliContext): void {
  addConfigOption(
    program
      .command('migrate')
      .description('Create the database if needed and apply pending schema migrations (serve does this too)')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async ({ db }, config) => {
      const applied = db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as AppliedMigration[];
      const database = sqlitePath(config);
      if (opts.json) {
        printJson(cli, { database, migrations: applied.map((m) => ({ version: m.version, name: m.name, appliedAt: m.applied_at })) });
        return;
      }
      const last = applied.at(-1)?.version ?? 0;
      const lines = applied.map((m) => `  ${String(m.version).padStart(3, '0')} ${m.name} (applied ${m.applied_at})`);
      cli.stdout.write(`${database}: schema version ${last}\n${lines.join('\n')}\n`);
    });
  });
}
