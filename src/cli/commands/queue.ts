import type { Command } from 'commander';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import { systemClock } from '../../core/clock.js';
import { nextAttemptText, queueAdmin, registerOperations } from './queue-operations.js';
import type { CliContext } from '../io.js';

interface ListOptions extends ConfigOption {
  json?: boolean;
  tenant?: string;
  state?: string;
  limit?: string;
}

export function register(program: Command, cli: CliContext): void {
  const queue = program.command('queue').description('Inspect and operate the message queue');
  addConfigOption(
    queue
      .command('list')
      .description('Messages in the queue, oldest first, with each recipient\'s state and when it is tried next')
      .option('--tenant <name>', 'only this tenant\'s messages')
      .option('--state <state>', 'only messages with a recipient in this state (queued, deferred, failed, ...)')
      .option('--limit <n>', 'at most this many messages', '1000')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ListOptions) => {
    await withStores(cli, opts, async (stores) => {
      const found = await queueAdmin(stores).list(
        { ...(opts.tenant ? { tenant: opts.tenant } : {}), ...(opts.state ? { state: opts.state } : {}) },
        Number(opts.limit),
      );
      const entries = found.map(({ message: m, recipients }) => ({
        id: m.id, kind: m.kind, tenant: m.tenant, mailFrom: m.mailFrom, size: m.size, receivedAt: m.receivedAt, clientIp: m.clientIp, subject: m.subject,
        recipients: recipients.map((r) => ({ address: r.address, state: r.state, attempts: r.attempts, nextAttemptAt: r.nextAttemptAt, lastReply: r.lastReply })),
      }));
      if (opts.json) {
        printJson(cli, entries.map((e) => ({ ...e, receivedAt: new Date(e.receivedAt).toISOString() })));
        return;
      }
      if (entries.length === 0) {
        cli.stdout.write('The queue is empty.\n');
        return;
      }
      const now = systemClock.now().getTime();
      const out: string[] = [];
      for (const e of entries) {
        out.push(
          `${e.id}  ${new Date(e.receivedAt).toISOString()}  ${e.tenant ?? '-'}  <${e.mailFrom}>  ${e.size} bytes${e.subject ? `  "${e.subject}"` : ''}`,
        );
        for (const r of e.recipients) {
          const next = nextAttemptText(r, now);
          out.push(`    ${r.address}  ${r.state}${next === null ? '' : `  next ${next}`}${r.lastReply ? `  ${r.lastReply}` : ''}`);
        }
      }
      out.push(`${entries.length} message${entries.length === 1 ? '' : 's'}`);
      cli.stdout.write(out.join('\n') + '\n');
    });
  });
  registerOperations(queue, cli);
}
