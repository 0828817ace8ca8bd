/**
 * `relaygate queue show|retry|hold|release|bounce|delete`: the operator's actions on the queue
 * (delivery's part of the `queue` command; `queue list` lives in queue.ts). Actions select
 * recipients by message ids and/or filters and work in pages, so they scale to thousands of messages.
 */
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { parseDuration } from '../../config/index.js';
import { EmptySelectionError, QueueAdmin, type QueueAction, type QueueSelection } from '../../queue/admin.js';
import { isRecipientState } from '../../queue/states.js';
import type { RecipientState } from '../../store/ports.js';
import type { Stores } from '../../app/stores.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

interface FilterOptions extends ConfigOption {
  tenant?: string;
  domain?: string;
  state?: RecipientState;
  olderThan?: number;
  all?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Who the trace says did an action from the command line: `cli:<os user>`. */
export function cliOperator(cli: CliContext): string {
  let name = cli.env.USER ?? cli.env.LOGNAME;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return `cli:${name}`;
}

export function queueAdmin(stores: Stores): QueueAdmin {
  return new QueueAdmin({ store: stores.queueAdmin, directory: stores.directory, bodies: stores.bodies, clock: systemClock });
}

/**
 * When a waiting (queued or deferred) recipient is tried next, with `(due)` when that time has come
 * (the next delivery pass takes it); null for every other state (held waits for a release, an
 * in-flight one shows its lease, the final ones are done).
 */
export function nextAttemptText(r: { state: RecipientState; nextAttemptAt: number }, now: number): string | null {
  if (r.state !== 'queued' && r.state !== 'deferred') return null;
  return `${new Date(r.nextAttemptAt).toISOString()}${r.nextAttemptAt <= now ? ' (due)' : ''}`;
}

function stateOption(value: string): RecipientState {
  if (!isRecipientState(value)) throw new InvalidArgumentError('expected queued, inflight, deferred, delivered, failed, held or expired');
  return value;
}

function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError('expected a duration such as 30m, 4h or 2d');
  return ms;
}

function selectionOf(ids: string[], opts: FilterOptions): QueueSelection {
  return {
    ...(ids.length > 0 ? { ids } : {}),
    ...(opts.tenant ? { tenant: opts.tenant } : {}),
    ...(opts.domain ? { domain: opts.domain } : {}),
    ...(opts.state ? { state: opts.state } : {}),
    ...(opts.olderThan !== undefined ? { olderThanMs: opts.olderThan } : {}),
    ...(opts.all ? { all: true } : {}),
  };
}

/** The service's refusal of an empty selection, in the words of this command line. */
async function selecting<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof EmptySelectionError) throw new CliError('name message ids or a filter (--tenant, --domain, --state, --older-than), or pass --all');
    throw err;
  }
}

function withFilters(cmd: Command): Command {
  return addConfigOption(
    cmd
      .argument('[ids...]', 'queue ids')
      .option('--tenant <name>', "only this tenant's messages")
      .option('--domain <domain>', 'only recipients in this domain')
      .option('--state <state>', 'only recipients in this state', stateOption)
      .option('--older-than <duration>', 'only messages received at least this long ago (e.g. 4h)', durationOption)
      .option('--all', 'every message (when no id or filter is given)')
      .option('--dry-run', 'count what would change, change nothing')
      .option('--json', 'machine-readable output'),
  );
}

const actions: Array<{ name: QueueAction; description: string; done: string }> = [
  { name: 'retry', description: 'Try queued and deferred recipients again now', done: 'will be retried now' },
  { name: 'hold', description: 'Stop delivering recipients until released', done: 'held' },
  { name: 'release', description: 'Deliver held recipients again', done: 'released' },
  { name: 'bounce', description: 'Give up on recipients now; their senders get a failure DSN', done: 'bounced' },
];

export function registerOperations(queue: Command, cli: CliContext): void {
  addConfigOption(
    queue.command('show').description('One message: envelope, recipients with their states, and its headers').argument('<id>').option('--json', 'machine-readable output'),
  ).action(async (id: string, opts: ConfigOption & { json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const admin = queueAdmin(stores);
      const { message, recipients } = await admin.show(id);
      const headers = await admin.headers(message.id).catch((err: unknown) => `(spool file unreadable: ${messageOf(err)})`);
      const now = systemClock.now().getTime();
      const nextOf = (r: (typeof recipients)[number]): string => {
        const next = nextAttemptText(r, now);
        return next === null ? '' : `  next=${next}`;
      };
      if (opts.json) return printJson(cli, { ...message, receivedAt: new Date(message.receivedAt).toISOString(), recipients, headers });
      const lines = [
        `id:          ${message.id}${message.kind === 'dsn' ? '  (a DSN generated by the relay)' : ''}`,
        `received:    ${new Date(message.receivedAt).toISOString()}`,
        `tenant:      ${message.tenant ?? '-'}`,
        `sender:      <${message.mailFrom}>`,
        `size:        ${message.size} bytes${message.smtputf8 ? ', SMTPUTF8' : ''}${message.bodyType ? `, BODY=${message.bodyType}` : ''}`,
        ...(message.envId || message.ret ? [`dsn:         ${message.envId ? `ENVID=${message.envId} ` : ''}${message.ret ? `RET=${message.ret}` : ''}`.trimEnd()] : []),
        'recipients:',
        ...recipients.map(
          (r) =>
            `  ${r.address}  ${r.state}  attempts=${r.attempts}${r.lastAttemptAt ? `  last=${new Date(r.lastAttemptAt).toISOString()}` : ''}${nextOf(r)}${r.lease ? `  leased by ${r.lease.owner} until ${new Date(r.lease.until).toISOString()}` : ''}${r.lastReply ? `\n      ${r.lastReply}${r.lastRemoteMta ? ` (from ${r.lastRemoteMta})` : ''}` : ''}`,
        ),
        'headers:',
        ...headers.split(/\r?\n/).map((l) => `  ${l}`),
      ];
      cli.stdout.write(lines.join('\n') + '\n');
    });
  });

  for (const action of actions) {
    withFilters(queue.command(action.name).description(action.description)).action(async (ids: string[], opts: FilterOptions) => {
      const selection = selectionOf(ids, opts);
      await withStores(cli, opts, async (stores) => {
        if (opts.dryRun) {
          const p = await selecting(() => queueAdmin(stores).preview(action.name, selection));
          if (opts.json) return printJson(cli, { action: action.name, dryRun: true, ...p });
          return void cli.stdout.write(`${p.recipients} recipient${p.recipients === 1 ? '' : 's'} of ${p.messages} message${p.messages === 1 ? '' : 's'} would be ${action.done} (dry run: nothing changed)\n`);
        }
        const changed = await selecting(() => queueAdmin(stores).apply(action.name, selection, cliOperator(cli)));
        if (opts.json) return printJson(cli, { action: action.name, recipients: changed });
        cli.stdout.write(`${changed} recipient${changed === 1 ? '' : 's'} ${action.done}\n`);
      });
    });
  }

  withFilters(queue.command('delete').description('Remove messages from the queue without any notice to their senders')).action(
    async (ids: string[], opts: FilterOptions) => {
      const selection = selectionOf(ids, opts);
      await withStores(cli, opts, async (stores) => {
        if (opts.dryRun) {
          const p = await selecting(() => queueAdmin(stores).preview('delete', selection));
          if (opts.json) return printJson(cli, { action: 'delete', dryRun: true, ...p });
          return void cli.stdout.write(`${p.messages} message${p.messages === 1 ? '' : 's'} would be deleted (dry run: nothing changed)\n`);
        }
        const deleted = await selecting(() => queueAdmin(stores).delete(selection, cliOperator(cli)));
        if (opts.json) return printJson(cli, { action: 'delete', messages: deleted });
        cli.stdout.write(`${deleted} message${deleted === 1 ? '' : 's'} deleted\n`);
      });
    },
  );
}
