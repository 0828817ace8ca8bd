import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { ImpactReportService, type ImpactReportItem } from '../../compliance/impact-report.js';
import { writeImpactCsv, writeImpactJson, writeImpactTable } from '../../compliance/impact-report-output.js';
import { ProgressBar } from '../../compliance/message-trace-progress.js';
import { CliError } from '../errors.js';
import type { CliContext } from '../io.js';
import { addConfigOption, withStores, type ConfigOption } from '../options.js';

interface ImpactOptions extends ConfigOption {
  tenant?: string;
  since?: string;
  until?: string;
  json?: boolean;
  csv?: boolean;
}

/**
 * `relaygate report impact`: the live impact report over the recorded decisions. Exit code 0 when
 * the rule change touches nothing in the range, 1 when something passes only by the legacy rule or
 * is refused now that passed before, 2 for invalid input.
 */
export function register(program: Command, cli: CliContext): void {
  const report = program.command('report').description('Reports over what the relay recorded');
  addConfigOption(
    report
      .command('impact')
      .description(
        'What the 2023-11 relay rule changes in the recorded traffic: what passes only because of the legacy rule, and what is refused now that passed before, grouped by source, connector, P1 and P2 domain, with the remedy',
      )
      .option('--tenant <name>', "only this tenant's decisions (its name, or the id of a removed tenant)")
      .option('--since <when>', 'how far back: a duration (30d, 12h, 90m, 2w) or an ISO 8601 date', '30d')
      .option('--until <when>', 'up to this ISO 8601 date or instant (default: now)')
      .option('--json', 'machine-readable output (one JSON document, a group per line)')
      .option('--csv', 'CSV, a record per group'),
  ).action(async (opts: ImpactOptions) => {
    if (opts.json && opts.csv) throw new CliError('give either --json or --csv, not both');
    await withStores(cli, opts, async (stores) => {
      const bar = cli.stderr.isTTY ? new ProgressBar(cli.stderr, { one: 'decision', many: 'decisions' }) : null;
      const { query, items } = await new ImpactReportService(stores, systemClock).report(
        { ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}), ...(opts.since !== undefined ? { since: opts.since } : {}), ...(opts.until !== undefined ? { until: opts.until } : {}) },
        bar ? { onProgress: (read, total) => { bar.rowsRead(read); bar.progress(read, total); } } : {},
      );
      // The groups come once the scan is done: the bar is erased before the report is written.
      async function* afterBar(): AsyncGenerator<ImpactReportItem> {
        for await (const item of items) {
          bar?.finish();
          yield item;
        }
      }
      let totals;
      try {
        totals = opts.json
          ? await writeImpactJson(query, afterBar(), cli.stdout)
          : opts.csv
            ? await writeImpactCsv(afterBar(), cli.stdout)
            : await writeImpactTable(query, afterBar(), cli.stdout);
      } finally {
        bar?.finish();
      }
      if (totals.legacyOnly + totals.newlyRefused > 0) cli.exitCode = 1;
    });
  });
}
