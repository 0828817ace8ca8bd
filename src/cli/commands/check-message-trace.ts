import { ProgressBar } from '../../compliance/message-trace-progress.js';
import { canonicalIp, checkMessageTraceFile } from '../../compliance/message-trace.js';
import { messageTraceCsv, messageTraceJson, messageTraceTable } from '../../compliance/message-trace-output.js';
import type { Directory } from '../../directory/model.js';
import { CliError } from '../errors.js';
import type { CliContext } from '../io.js';

/**
 * The `--message-trace FILE` mode of `relaygate check` (registered by check.ts, which calls
 * runMessageTraceCheck). Exit code: 0 nothing refused under the 2023-11 rule, 1 some traffic
 * refused or the tenant not found, 2 invalid input.
 */
export interface MessageTraceCliOptions {
  messageTrace: string;
  tenant?: string;
  certName?: string[];
  json?: boolean;
  csv?: boolean;
}

/** `IP=NAME` pairs → map of canonical IP → certificate name. */
export function parseCertNames(pairs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const ip = eq === -1 ? null : canonicalIp(pair.slice(0, eq));
    const name = eq === -1 ? '' : pair.slice(eq + 1).trim().toLowerCase();
    if (ip === null || !/^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(name)) {
      throw new CliError(`--cert-name ${JSON.stringify(pair)}: expected IP=NAME, e.g. 203.0.113.25=mail.contoso.com`);
    }
    out.set(ip, name);
  }
  return out;
}

export async function runMessageTraceCheck(cli: CliContext, opts: MessageTraceCliOptions, directory: Directory): Promise<number> {
  if (!opts.tenant) throw new CliError('--message-trace needs --tenant NAME (the tenant the trace was exported from)');
  if (opts.json && opts.csv) throw new CliError('give either --json or --csv, not both');
  const certNames = parseCertNames(opts.certName ?? []);
  const bar = cli.stderr.isTTY ? new ProgressBar(cli.stderr) : null;
  let report;
  try {
    report = await checkMessageTraceFile(opts.messageTrace, {
      directory,
      tenant: opts.tenant,
      certNames,
      onProgress: (rows) => bar?.rowsRead(rows),
      onBytes: (read, total) => bar?.bytesRead(read, total),
    });
  } finally {
    bar?.finish();
  }
  cli.stdout.write(opts.json ? messageTraceJson(report) : opts.csv ? messageTraceCsv(report) : messageTraceTable(report));
  return report.refusedNow > 0 ? 1 : 0;
}
