/**
 * `relaygate webhook add|list|rotate|remove|deliveries|replay|test`: tenants' webhooks. A secret is
 * printed once (at add and rotate). The rules are WebhookService's; `serve` delivers.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { RelaygateError } from '../../core/errors.js';
import { fieldOf } from '../../core/field-error.js';
import { parseDuration } from '../../config/units.js';
import type { RelaygateConfig } from '../../config/index.js';
import type { Stores } from '../../app/stores.js';
import { webhookEventTypes } from '../../webhooks/events.js';
import { WebhookService, type WebhookDeliveryView, type WebhookScope, type WebhookSubscriptionView } from '../../webhooks/webhook-service.js';
import { table } from '../directory-output.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

type Opts = ConfigOption & { tenant?: string; json?: boolean };

function service(stores: Stores, config: RelaygateConfig): WebhookService {
  return new WebhookService({ directory: stores.directory, webhooks: stores.webhooks, clock: systemClock, allowPrivateTargets: config.webhooks.allowPrivateTargets });
}

const scopeOf = (opts: Opts): WebhookScope => (opts.tenant !== undefined ? { tenant: opts.tenant } : {});

function summary(v: WebhookSubscriptionView): string {
  return `webhook ${v.id} of tenant ${v.tenant}: ${v.url} (${v.events.join(', ')})${v.enabled ? '' : ', disabled'}`;
}

function deliveryLine(d: WebhookDeliveryView): string[] {
  return [String(d.id), d.type, d.state, String(d.attempts), d.lastStatus === null ? '-' : String(d.lastStatus), d.createdAt, d.nextAttemptAt ?? '-', d.lastError ?? ''];
}

/** A service error about an input, worded as the option that gave it. */
function optionError(err: unknown): unknown {
  if (!(err instanceof RelaygateError) || err.code === 'not-found') return err;
  const field = fieldOf(err);
  return field === 'url' || field === 'events' || field === 'grace' || field === 'limit'
    ? new CliError(`--${field}: ${err.message}`, err.code, { cause: err, details: err.details }) : err;
}

function deliveryId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new CliError(`not a delivery id: ${JSON.stringify(text)} (the ID column of webhook deliveries)`);
  return Number(text);
}

export function register(program: Command, cli: CliContext): void {
  const webhook = program.command('webhook').description("Tenants' webhooks: subscribe to trace events, rotate secrets, see and replay deliveries");
  const tenantOption = (c: Command): Command => c.option('--tenant <name>', "only this tenant's (another tenant's ids are not found)");

  addConfigOption(
    webhook
      .command('add')
      .description('Subscribe a tenant to events (the secret is printed once)')
      .requiredOption('--tenant <name>', 'the tenant')
      .requiredOption('--url <url>', 'where to POST the events (https:// or http://)')
      .requiredOption('--events <types>', `comma-separated: ${webhookEventTypes.join(', ')}`)
      .option('--disabled', 'create it turned off')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: Opts & { tenant: string; url: string; events: string; disabled?: boolean }) => {
    await withStores(cli, opts, async (stores, config) => {
      const events = opts.events.split(',').map((e) => e.trim()).filter((e) => e !== '');
      const created = await service(stores, config)
        .subscribe(opts.tenant, { url: opts.url, events, enabled: opts.disabled !== true })
        .catch((err: unknown) => Promise.reject(optionError(err)));
      if (opts.json) return printJson(cli, { secret: created.secret, ...created.subscription });
      cli.stdout.write(`+ ${summary(created.subscription)}\n${created.secret}\n`);
      cli.stderr.write('relaygate: the secret is shown only now: give it to the receiver to verify webhook-signature (docs/webhooks.md)\n');
    });
  });

  addConfigOption(tenantOption(webhook.command('list').description('List subscriptions (never their secrets)')).option('--json', 'machine-readable output'))
    .action(async (opts: Opts) => {
      await withStores(cli, opts, async (stores, config) => {
        const list = await service(stores, config).list(scopeOf(opts));
        if (opts.json) return printJson(cli, list);
        if (list.length === 0) return void cli.stdout.write('no webhook subscriptions\n');
        cli.stdout.write(table(['ID', 'TENANT', 'URL', 'EVENTS', 'STATE', 'OLD SECRET UNTIL'], list.map((s) => [
          s.id, s.tenant, s.url, s.events.join(','), s.enabled ? 'enabled' : 'disabled', s.previousSecretValidUntil ?? '-',
        ])));
      });
    });

  addConfigOption(
    tenantOption(webhook.command('rotate').description('A new secret (printed once); the old one keeps signing beside it for --grace').argument('<id>'))
      .option('--grace <duration>', 'how long the old secret stays valid (0 to end it now; at most 7d)', '24h')
      .option('--json', 'machine-readable output'),
  ).action(async (id: string, opts: Opts & { grace: string }) => {
    const graceMs = opts.grace === '0' ? 0 : parseDuration(opts.grace);
    if (graceMs === null) throw new CliError(`--grace: expected a duration such as 24h or 7d, got ${JSON.stringify(opts.grace)}`);
    await withStores(cli, opts, async (stores, config) => {
      const rotated = await service(stores, config).rotate(id, { graceMs }, scopeOf(opts)).catch((err: unknown) => Promise.reject(optionError(err)));
      if (opts.json) return printJson(cli, { secret: rotated.secret, ...rotated.subscription });
      const until = rotated.subscription.previousSecretValidUntil;
      cli.stdout.write(`~ ${summary(rotated.subscription)}: new secret${until ? `, the old one signs too until ${until}` : ''}\n${rotated.secret}\n`);
    });
  });

  addConfigOption(tenantOption(webhook.command('remove').description('Remove a subscription, its pending deliveries and its log').argument('<id>')).option('--json', 'machine-readable output'))
    .action(async (id: string, opts: Opts) => {
      await withStores(cli, opts, async (stores, config) => {
        const removed = await service(stores, config).remove(id, scopeOf(opts));
        if (opts.json) return printJson(cli, removed);
        cli.stdout.write(`- ${summary(removed)}\n`);
      });
    });

  addConfigOption(
    tenantOption(webhook.command('deliveries').description("A subscription's deliveries, newest first, with their attempts").argument('<id>'))
      .option('--limit <n>', 'at most this many (1-100)', '20')
      .option('--json', 'machine-readable output'),
  ).action(async (id: string, opts: Opts & { limit: string }) => {
    if (!/^\d+$/.test(opts.limit)) throw new CliError(`--limit: expected a number, got ${JSON.stringify(opts.limit)}`);
    await withStores(cli, opts, async (stores, config) => {
      const list = await service(stores, config).deliveries(id, scopeOf(opts), Number(opts.limit)).catch((err: unknown) => Promise.reject(optionError(err)));
      if (opts.json) return printJson(cli, list);
      if (list.length === 0) return void cli.stdout.write('no deliveries\n');
      cli.stdout.write(table(['ID', 'TYPE', 'STATE', 'ATTEMPTS', 'STATUS', 'CREATED', 'NEXT', 'ERROR'], list.map(deliveryLine)));
    });
  });

  addConfigOption(tenantOption(webhook.command('replay').description('Send a delivery again from its first attempt (same webhook-id)').argument('<delivery>')).option('--json', 'machine-readable output'))
    .action(async (delivery: string, opts: Opts) => {
      const id = deliveryId(delivery);
      await withStores(cli, opts, async (stores, config) => {
        const replayed = await service(stores, config).replay(id, scopeOf(opts));
        if (opts.json) return printJson(cli, replayed);
        cli.stdout.write(`delivery ${replayed.id} (${replayed.type}) queued again: serve sends it next\n`);
      });
    });

  addConfigOption(tenantOption(webhook.command('test').description('Queue a test event to a subscription').argument('<id>')).option('--json', 'machine-readable output'))
    .action(async (id: string, opts: Opts) => {
      await withStores(cli, opts, async (stores, config) => {
        const queued = await service(stores, config).test(id, scopeOf(opts));
        if (opts.json) return printJson(cli, queued);
        cli.stdout.write(`test event queued as delivery ${queued.id}: serve sends it next (see webhook deliveries ${id})\n`);
      });
    });
}
