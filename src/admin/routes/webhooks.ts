/**
 * A tenant's webhooks under /v1/tenants/{tenant}/webhooks: subscriptions (the secret answered once,
 * at creation and rotation, and never written to the audit log), the delivery log, replay and the
 * test event. The rules are WebhookService's, the ones `relaygate webhook` applies; every call is
 * scoped to the tenant of the path, which a tenant token must be allowed to see, so another
 * tenant's subscription or delivery answers 404 like one that does not exist.
 */
import { z } from 'zod';
import { visibleTenant } from '../../access/principal.js';
import type { DirectoryStore } from '../../store/ports.js';
import { webhookEventTypes } from '../../webhooks/events.js';
import type { WebhookService } from '../../webhooks/webhook-service.js';
import { route, type ApiRoute, type RouteContext } from '../api-route.js';
import { tenantParams } from '../schemas.js';

export interface WebhookDeps {
  directory: Pick<DirectoryStore, 'load'>;
  webhooks: WebhookService;
}

const subscriptionView = z.object({
  id: z.string(),
  tenant: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  previousSecretValidUntil: z.string().nullable().describe('While a rotation\'s grace runs: until when the previous secret signs too'),
});

const withSecret = subscriptionView.extend({ secret: z.string().describe('whsec_…: shown only in this answer') });

const deliveryView = z.object({
  id: z.number().int(),
  subscription: z.string(),
  type: z.string(),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  createdAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  finishedAt: z.string().nullable(),
  log: z.array(z.object({
    at: z.string(), attempt: z.number().int(), outcome: z.enum(['delivered', 'retry', 'failed']), statusCode: z.number().int().nullable(),
    durationMs: z.number(), error: z.string().nullable(),
  })),
});

const webhookParams = tenantParams.extend({ webhook: z.string().min(1).describe('The subscription id (wh_…)') });
const deliveryParams = webhookParams.extend({
  delivery: z.string().regex(/^[1-9]\d{0,15}$/, { error: 'expected a delivery id' }).transform(Number).describe('The delivery id'),
});

type Ctx = RouteContext<{ tenant: string }, unknown, unknown>;

export function webhookRoutes(deps: WebhookDeps): ApiRoute[] {
  const tenantOf = async (ctx: Ctx) => visibleTenant(ctx.principal, await deps.directory.load(), ctx.params.tenant);
  return [
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/webhooks', id: 'listWebhooks', tag: 'webhooks', access: 'read',
      summary: "The tenant's webhook subscriptions (never their secrets)", params: tenantParams, response: z.array(subscriptionView),
      handler: async (ctx) => deps.webhooks.list({ tenant: (await tenantOf(ctx)).name }),
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/webhooks', id: 'addWebhook', tag: 'webhooks', access: 'write', status: 201,
      summary: 'Subscribe the tenant to events; the secret is in this answer only', params: tenantParams,
      body: z.strictObject({
        url: z.string().describe('https:// or http://; a private, loopback or link-local target is refused unless the server allows it'),
        events: z.array(z.string()).describe(`Any of ${webhookEventTypes.join(', ')}`),
        enabled: z.boolean().optional().describe('Default: true'),
      }),
      response: withSecret,
      handler: async (ctx) => {
        const tenant = await tenantOf(ctx);
        const { subscription, secret } = await deps.webhooks.subscribe(tenant.name, { url: ctx.body.url, events: ctx.body.events, ...(ctx.body.enabled !== undefined ? { enabled: ctx.body.enabled } : {}) });
        ctx.audit({ tenantId: tenant.id, before: null, after: subscription });
        ctx.reply.header('location', `/v1/tenants/${tenant.id}/webhooks/${subscription.id}`);
        return { ...subscription, secret };
      },
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/webhooks/{webhook}', id: 'getWebhook', tag: 'webhooks', access: 'read',
      summary: 'One subscription', params: webhookParams, response: subscriptionView,
      handler: async (ctx) => deps.webhooks.show(ctx.params.webhook, { tenant: (await tenantOf(ctx as unknown as Ctx)).name }),
    }),
    route({
      method: 'PATCH', path: '/v1/tenants/{tenant}/webhooks/{webhook}', id: 'updateWebhook', tag: 'webhooks', access: 'write',
      summary: 'Turn a subscription on or off (an off one owes nothing for the events meanwhile)', params: webhookParams,
      body: z.strictObject({ enabled: z.boolean() }), response: subscriptionView,
      handler: async (ctx) => {
        const tenant = await tenantOf(ctx as unknown as Ctx);
        const before = await deps.webhooks.show(ctx.params.webhook, { tenant: tenant.name });
        const after = await deps.webhooks.setEnabled(ctx.params.webhook, ctx.body.enabled, { tenant: tenant.name });
        ctx.audit({ tenantId: tenant.id, before, after });
        return after;
      },
    }),
    route({
      method: 'DELETE', path: '/v1/tenants/{tenant}/webhooks/{webhook}', id: 'removeWebhook', tag: 'webhooks', access: 'write',
      summary: 'Remove a subscription with its pending deliveries and its log', params: webhookParams, response: subscriptionView,
      handler: async (ctx) => {
        const tenant = await tenantOf(ctx as unknown as Ctx);
        const removed = await deps.webhooks.remove(ctx.params.webhook, { tenant: tenant.name });
        ctx.audit({ tenantId: tenant.id, before: removed, after: null });
        return removed;
      },
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/webhooks/{webhook}/rotate', id: 'rotateWebhookSecret', tag: 'webhooks', access: 'write',
      summary: 'A new secret (in this answer only); the old one keeps signing beside it for graceSeconds (default 86400, at most 7 days)',
      params: webhookParams, body: z.strictObject({ graceSeconds: z.number().int().optional() }), response: withSecret,
      handler: async (ctx) => {
        const tenant = await tenantOf(ctx as unknown as Ctx);
        const grace = ctx.body.graceSeconds;
        const { subscription, secret } = await deps.webhooks.rotate(ctx.params.webhook, grace === undefined ? {} : { graceMs: grace * 1000 }, { tenant: tenant.name });
        ctx.audit({ tenantId: tenant.id, before: null, after: { id: subscription.id, rotated: true, previousSecretValidUntil: subscription.previousSecretValidUntil } });
        return { ...subscription, secret };
      },
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/webhooks/{webhook}/test', id: 'testWebhook', tag: 'webhooks', access: 'write', status: 202,
      summary: 'Queue a test event to the subscription', params: webhookParams, response: deliveryView,
      handler: async (ctx) => {
        const tenant = await tenantOf(ctx as unknown as Ctx);
        const queued = await deps.webhooks.test(ctx.params.webhook, { tenant: tenant.name });
        ctx.audit({ tenantId: tenant.id, before: null, after: { delivery: queued.id, type: queued.type } });
        return queued;
      },
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/webhooks/{webhook}/deliveries', id: 'listWebhookDeliveries', tag: 'webhooks', access: 'read',
      summary: "The subscription's deliveries, newest first, each with its attempts (status, response code, duration)", params: webhookParams,
      query: z.strictObject({ limit: z.coerce.number().int().optional().describe('1-100, default 20') }), response: z.array(deliveryView),
      handler: async (ctx) => deps.webhooks.deliveries(ctx.params.webhook, { tenant: (await tenantOf(ctx as unknown as Ctx)).name }, ctx.query.limit ?? 20),
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/webhooks/{webhook}/deliveries/{delivery}/replay', id: 'replayWebhookDelivery', tag: 'webhooks', access: 'write',
      status: 202, summary: 'Send a delivery again from its first attempt (same webhook-id)', params: deliveryParams, response: deliveryView,
      handler: async (ctx) => {
        const tenant = await tenantOf(ctx as unknown as Ctx);
        await deps.webhooks.show(ctx.params.webhook, { tenant: tenant.name });
        const replayed = await deps.webhooks.replay(ctx.params.delivery, { tenant: tenant.name, subscription: ctx.params.webhook });
        ctx.audit({ tenantId: tenant.id, before: null, after: { delivery: replayed.id, replayed: true } });
        return replayed;
      },
    }),
  ];
}
