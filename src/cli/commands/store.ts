import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { addConfigOption, loadCliConfig, printJson, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface CopyOptions extends ConfigOption {
  from: string;
  to?: string;
  json?: boolean;
}

export function register(program: Command, cli: CliContext): void {
  const store = program.command('store').description('Move a whole installation between stores');
  addConfigOption(
    store
      .command('copy')
      .description("Copy the SQLite store under the configuration's dataDir into an empty PostgreSQL database, and check it by counts")
      .requiredOption('--from <store>', 'the store to copy: sqlite')
      .option('--to <url>', 'the postgres:// URL to copy into (default: RELAYGATE_STORE_URL, which keeps the password off the command line)')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: CopyOptions) => {
    if (opts.from !== 'sqlite') throw new CliError(`--from: only "sqlite" can be copied from, got ${JSON.stringify(opts.from)}`);
    const to = opts.to ?? cli.env.RELAYGATE_STORE_URL;
    if (!to) throw new CliError('--to: give the postgres:// URL to copy into, or set RELAYGATE_STORE_URL');
    if (!/^postgres(ql)?:\/\//.test(to)) throw new CliError('--to: expected a postgres:// URL');
    const config = loadCliConfig(cli, opts);
    const { copySqliteToPostgres } = await import('../../app/store-copy.js');
    const report = await copySqliteToPostgres(config, to);
    if (opts.json) printJson(cli, report);
    else {
      const width = Math.max(...report.counts.map((c) => c.table.length));
      const lines = report.counts.map((c) => `  ${c.table.padEnd(width)}  ${String(c.source).padStart(7)} → ${String(c.target).padStart(7)}${c.source === c.target ? '' : '  DIFFERS'}`);
      cli.stdout.write(`${report.from} → ${report.to}\n${lines.join('\n')}\n  (${report.bodyBytes} bytes of message bodies)\n`);
      cli.stdout.write(report.complete ? 'Every count matches.\n' : 'Some counts differ: the copy is not complete.\n');
    }
    if (!report.complete) cli.exitCode = 1;
  });
}
