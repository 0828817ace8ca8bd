import { InvalidArgumentError, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { TraceSearchService, type TraceSearchInput } from '../../compliance/trace-search.js';
import { CliError } from '../errors.js';
import type { CliContext } from '../io.js';
import { addConfigOption, withStores, type ConfigOption } from '../options.js';
import { writeStory, writeStoryJson, writeTraceCsv, writeTraceJson, writeTraceTable } from '../trace-output.js';

interface TraceOptions extends ConfigOption {
  tenant?: string;
  sender?: string;
  recipient?: string;
  messageId?: string;
  queueId?: string;
  sessionId?: string;
  clientIp?: string;
  connector?: string;
  certificateName?: string;
  status?: string[];
  event?: string[];
  reason?: string;
  ruleSet?: string;
  since?: string;
  start?: string;
  end?: string;
  cursor?: string;
  limit?: number;
  json?: boolean;
  csv?: boolean;
}

/** `--status Failed,Refused` and `--status Failed --status Refused` alike. */
function list(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

function wholeNumber(value: string): number {
  if (!/^\d{1,6}$/.test(value.trim())) throw new InvalidArgumentError('not a whole number.');
  return Number(value);
}

/**
 * `relaygate trace`: searches the message trace (trace/search-service.ts) and prints a page, newest
 * first; `trace show ID` prints one message's or session's story. Exit code 0 with the answer
 * (also an empty page), 1 when `show` finds nothing, 2 for invalid input.
 */
export function register(program: Command, cli: CliContext): void {
  const trace = addConfigOption(
    program
      .command('trace')
      .description("Search the message trace: every connection, refusal (with the relay rule's reasons), message, delivery attempt and DSN")
      .option('--tenant <name>', 'tenant (its name, or the id of a removed tenant)')
      .option('--sender <address>', 'envelope sender: an address, a domain (@contoso.com or contoso.com), or <> for the null sender')
      .option('--recipient <address>', 'recipient: an address or a domain (@fabrikam.com or fabrikam.com)')
      .option('--message-id <id>', 'the Message-ID header field')
      .option('--queue-id <id>', 'queue id (the id in 250 2.0.0 OK <id>)')
      .option('--session-id <id>', 'SMTP session id')
      .option('--client-ip <address>', 'the client address the relay judged')
      .option('--connector <name>', 'inbound connector')
      .option('--certificate-name <name>', 'client certificate name')
      .option('--status <status>', 'Delivered, Failed, Pending, Expanded, Refused or Deferred (comma-separated or repeated)', list)
      .option('--event <kind>', 'event kind: connected, refused, received, queued, attempt, deferred, delivered, failed, expired, dsn-queued, held, released, operator-bounced, deleted, srs-returned', list)
      .option('--reason <rule>', 'the decision rule or outcome reason (nobody, hygiene, require-tls, message-size, 5.1.1, ...)')
      .option('--rule-set <set>', 'the relay rule set in force: 2023-11 or legacy')
      .option('--since <when>', 'from a duration ago (2h, 30d, 90m, 2w) or an ISO 8601 date or instant')
      .option('--start <when>', 'from this ISO 8601 date or instant')
      .option('--end <when>', 'before this ISO 8601 date or instant')
      .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
      .option('--limit <n>', 'events per page, 1 to 10000 (default 100)', wholeNumber)
      .option('--json', 'JSON: {"events":[...],"next":cursor}, Exchange Online column names')
      .option('--csv', 'CSV with Exchange Online column names (the next cursor on stderr)'),
  ).action(async (opts: TraceOptions) => {
    if (opts.json && opts.csv) throw new CliError('give either --json or --csv, not both');
    const input: TraceSearchInput = {};
    const copy = <K extends keyof TraceSearchInput>(key: K, value: TraceSearchInput[K] | undefined): void => {
      if (value !== undefined) input[key] = value;
    };
    copy('tenant', opts.tenant);
    copy('sender', opts.sender);
    copy('recipient', opts.recipient);
    copy('messageId', opts.messageId);
    copy('queueId', opts.queueId);
    copy('sessionId', opts.sessionId);
    copy('clientIp', opts.clientIp);
    copy('connector', opts.connector);
    copy('certificateName', opts.certificateName);
    copy('status', opts.status);
    copy('event', opts.event);
    copy('reason', opts.reason);
    copy('ruleSet', opts.ruleSet);
    copy('since', opts.since);
    copy('start', opts.start);
    copy('end', opts.end);
    copy('cursor', opts.cursor);
    copy('limit', opts.limit);
    await withStores(cli, opts, async (stores) => {
      const result = await new TraceSearchService(stores, systemClock).search(input);
      if (opts.json) writeTraceJson(result, cli.stdout);
      else if (opts.csv) writeTraceCsv(result, cli.stdout, cli.stderr);
      else writeTraceTable(result, cli.stdout);
    });
  });

  addConfigOption(
    trace
      .command('show')
      .description("One message's (queue id) or one connection's (session id) whole story: connection and TLS, decisions with the workflow chart and remedies, every attempt, the DSN")
      .argument('<id>', 'a queue id or a session id (TRACE ID in the search)')
      .option('--json', 'the events as JSON'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    // `trace` takes --config and --json too: commander gives them to it wherever they are written.
    const opts = cmd.optsWithGlobals<ConfigOption & { json?: boolean; csv?: boolean }>();
    if (opts.csv) throw new CliError('trace show prints text or --json, not --csv');
    await withStores(cli, opts, async (stores) => {
      const story = await new TraceSearchService(stores, systemClock).story(id);
      if (opts.json) writeStoryJson(story, cli.stdout);
      else writeStory(story, cli.stdout);
    });
  });
}
