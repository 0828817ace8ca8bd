/**
 * The queue: list and show messages, and the operator's actions (hold, release, retry, bounce,
 * delete) on one message or on every message a filter matches, with a dry run that counts first.
 * The rules are QueueAdmin's (queue/admin.ts), the same `relaygate queue` applies. A tenant token
 * sees and acts on its own tenant's messages only: another tenant's queue ids are not found.
 */
import { z } from 'zod';
import { isAdmin, visibleTenant, type Principal } from '../../access/principal.js';
import { parseDuration } from '../../config/units.js';
import { RelaygateError } from '../../core/errors.js';
import { EmptySelectionError, type QueueAction, type QueueAdmin, type QueueSelection } from '../../queue/admin.js';
import { recipientStates, type DirectoryStore, type QueueEntry } from '../../store/ports.js';
import { route, type ApiRoute } from '../api-route.js';
import { limitQuery } from '../schemas.js';

export interface QueueDeps {
  queue: QueueAdmin;
  directory: Pick<DirectoryStore, 'load'>;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

const recipientView = z.object({
  id: z.number().int(),
  address: z.string(),
  state: z.enum(recipientStates),
  attempts: z.number().int(),
  lastReply: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastRemoteMta: z.string().nullable(),
  nextAttemptAt: z.string(),
  dsnStatus: z.enum(['owed', 'suppressed', 'sent']).nullable(),
  delayNoticeSent: z.boolean(),
  lease: z.object({ owner: z.string(), until: z.string() }).nullable(),
});

const entryView = z.object({
  id: z.string(),
  kind: z.string(),
  tenant: z.string().nullable(),
  tenantId: z.string().nullable(),
  connector: z.string().nullable(),
  mailFrom: z.string(),
  size: z.number().int(),
  receivedAt: z.string(),
  clientIp: z.string().nullable(),
  subject: z.string().nullable(),
  messageIdHeader: z.string().nullable(),
  recipients: z.array(recipientView),
});

function view(e: QueueEntry): z.input<typeof entryView> {
  const m = e.message;
  return {
    id: m.id,
    kind: m.kind,
    tenant: m.tenant,
    tenantId: m.tenantId,
    connector: m.connector,
    mailFrom: m.mailFrom,
    size: m.size,
    receivedAt: iso(m.receivedAt)!,
    clientIp: m.clientIp,
    subject: m.subject,
    messageIdHeader: m.messageIdHeader,
    recipients: e.recipients.map((r) => ({
      id: r.id,
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      lastReply: r.lastReply,
      lastAttemptAt: iso(r.lastAttemptAt),
      lastRemoteMta: r.lastRemoteMta,
      nextAttemptAt: iso(r.nextAttemptAt)!,
      dsnStatus: r.dsnStatus,
      delayNoticeSent: r.delayNoticeSent,
      lease: r.lease ? { owner: r.lease.owner, until: iso(r.lease.until)! } : null,
    })),
  };
}

const filterFields = {
  tenant: z.string().min(1).optional().describe('Tenant id or name.'),
  domain: z.string().min(1).optional().describe('Only recipients in this domain.'),
  state: z.enum(recipientStates).optional().describe('Only recipients in this state.'),
  olderThan: z.string().optional().describe('Only messages received at least this long ago (30m, 4h, 2d).'),
};

const actionNames = ['retry', 'hold', 'release', 'bounce'] as const;

function durationMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null) throw new RelaygateError('invalid', `expected a duration such as 30m, 4h or 2d, got ${JSON.stringify(value)}`, { details: { field: 'olderThan' } });
  return ms;
}

/** The selection a request names, within what the principal may see. */
async function selection(deps: QueueDeps, p: Principal, f: { tenant?: string | undefined; domain?: string | undefined; state?: string | undefined; olderThan?: string | undefined; ids?: readonly string[] | undefined; all?: boolean | undefined }): Promise<QueueSelection> {
  const tenant = f.tenant === undefined ? undefined : visibleTenant(p, await deps.directory.load(), f.tenant);
  const olderThanMs = durationMs(f.olderThan);
  return {
    ...(f.ids && f.ids.length > 0 ? { ids: f.ids } : {}),
    ...(tenant ? { tenant: tenant.name } : {}),
    ...(f.domain !== undefined ? { domain: f.domain } : {}),
    ...(f.state !== undefined ? { state: f.state } : {}),
    ...(olderThanMs !== undefined ? { olderThanMs } : {}),
    ...(f.all ? { all: true } : {}),
    ...(isAdmin(p) ? {} : { scopeTenantId: p.tenantId! }),
  };
}

/** Who the trace names for an operator action taken through the API: the token, never its secret. */
function actorOf(p: Principal): string {
  return `api:${p.tokenId ?? p.name}`;
}

function scopeOf(p: Principal): string | undefined {
  return isAdmin(p) ? undefined : p.tenantId!;
}

/** The service's refusal of an empty selection, in the API's words. */
async function selecting<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof EmptySelectionError) {
      throw new RelaygateError('invalid', 'name message ids or a filter (tenant, domain, state, olderThan), or set "all": true', { details: { field: 'filter' } });
    }
    throw err;
  }
}

const idParams = z.strictObject({ id: z.string().min(1).describe('The queue id.') });

export function queueRoutes(deps: QueueDeps): ApiRoute[] {
  return [
    route({
      method: 'GET', path: '/v1/queue', id: 'listQueue', tag: 'queue', access: 'read',
      summary: 'Queued messages oldest first, with their recipients (a tenant token: its own)',
      query: z.strictObject({ ...filterFields, after: z.string().optional().describe('Page on after this queue id.'), limit: limitQuery(1000, 100) }),
      response: z.array(entryView),
      handler: async (ctx) => {
        const { after, limit, ...filter } = ctx.query;
        const sel = await selection(deps, ctx.principal, filter);
        return (await deps.queue.list(sel, limit, after)).map(view);
      },
    }),
    route({
      method: 'GET', path: '/v1/queue/{id}', id: 'getQueued', tag: 'queue', access: 'read',
      summary: 'One message with its recipients and its header block', params: idParams,
      response: entryView.extend({ headers: z.string().nullable() }),
      handler: async (ctx) => {
        const entry = await deps.queue.show(ctx.params.id, scopeOf(ctx.principal));
        const headers = await deps.queue.headers(entry.message.id).catch(() => null);
        return { ...view(entry), headers };
      },
    }),
    route({
      method: 'POST', path: '/v1/queue/{id}/{action}', id: 'actOnQueued', tag: 'queue', access: 'write',
      summary: 'retry, hold, release or bounce the recipients of one message that may take the action',
      params: idParams.extend({ action: z.enum(actionNames) }),
      response: z.object({ action: z.enum(actionNames), recipients: z.number().int(), message: entryView }),
      handler: async (ctx) => {
        const scope = scopeOf(ctx.principal);
        const before = await deps.queue.show(ctx.params.id, scope);
        const moved = await deps.queue.apply(ctx.params.action as QueueAction, { ids: [before.message.id], ...(scope ? { scopeTenantId: scope } : {}) }, actorOf(ctx.principal));
        const after = view(await deps.queue.show(before.message.id, scope));
        ctx.audit({ tenantId: before.message.tenantId, before: view(before), after });
        return { action: ctx.params.action, recipients: moved, message: after };
      },
    }),
    route({
      method: 'DELETE', path: '/v1/queue/{id}', id: 'deleteQueued', tag: 'queue', access: 'write',
      summary: 'Remove one message from the queue, without any notice to its sender', params: idParams,
      response: z.object({ action: z.literal('delete'), messages: z.number().int() }),
      handler: async (ctx) => {
        const scope = scopeOf(ctx.principal);
        const before = await deps.queue.show(ctx.params.id, scope);
        const deleted = await deps.queue.delete({ ids: [before.message.id], ...(scope ? { scopeTenantId: scope } : {}) }, actorOf(ctx.principal));
        ctx.audit({ tenantId: before.message.tenantId, before: view(before), after: null });
        return { action: 'delete' as const, messages: deleted };
      },
    }),
    route({
      method: 'POST', path: '/v1/queue/actions', id: 'actOnQueue', tag: 'queue', access: 'write',
      summary: 'An action on every message a filter matches; with "dryRun": true only the count of what it would change',
      body: z.strictObject({
        action: z.enum([...actionNames, 'delete']),
        filter: z.strictObject({ ...filterFields, ids: z.array(z.string().min(1)).max(10_000).optional(), all: z.boolean().optional() }),
        dryRun: z.boolean().optional(),
      }),
      response: z.object({ action: z.string(), dryRun: z.boolean(), messages: z.number().int(), recipients: z.number().int() }),
      handler: async (ctx) => {
        const { action, filter, dryRun } = ctx.body;
        const sel = await selection(deps, ctx.principal, filter);
        const preview = await selecting(() => deps.queue.preview(action, sel));
        if (dryRun) {
          ctx.audit({ tenantId: scopeOf(ctx.principal) ?? null, before: null, after: { action, filter, dryRun: true, ...preview } });
          return { action, dryRun: true, ...preview };
        }
        const done =
          action === 'delete'
            ? { messages: await selecting(() => deps.queue.delete(sel, actorOf(ctx.principal))), recipients: preview.recipients }
            : { messages: preview.messages, recipients: await selecting(() => deps.queue.apply(action, sel, actorOf(ctx.principal))) };
        ctx.audit({ tenantId: scopeOf(ctx.principal) ?? null, before: { action, filter, preview }, after: { action, filter, ...done } });
        return { action, dryRun: false, ...done };
      },
    }),
  ];
}
