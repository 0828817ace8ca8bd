/**
 * The rules of webhooks: who subscribes to what, where it may go, how a secret is rotated, and the
 * delivery log with replay and the test event. The CLI and the admin API call this and word its
 * errors their way (`details.field` names the input). A scope (`tenant`) restricts every call to
 * one tenant: another tenant's subscription or delivery is `not-found`, as if it did not exist.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';
import { invalidField } from '../core/field-error.js';
import { ulidGenerator } from '../core/ulid.js';
import { requireTenant } from '../directory/find-tenant.js';
import type { StoredTenant } from '../directory/index.js';
import type { DirectoryStore, StoredWebhookAttempt, WebhookOutboxRecord, WebhookStore, WebhookSubscriptionRecord } from '../store/ports.js';
import { TEST_EVENT_TYPE, isWebhookEventType, webhookEventTypes, type WebhookEventType } from './events.js';
import { webhookPayload, type WebhookPayload } from './payload.js';
import { newSecret } from './signature.js';
import { checkTarget, parseTargetUrl, type Resolve } from './target.js';

export const MAX_SUBSCRIPTIONS_PER_TENANT = 20;
export const DEFAULT_ROTATION_GRACE_MS = 24 * 3_600_000;
const MAX_ROTATION_GRACE_MS = 7 * 24 * 3_600_000;
const DELIVERY_LIST_LIMIT = 100;

export interface WebhookServiceDeps {
  directory: Pick<DirectoryStore, 'load'>;
  webhooks: WebhookStore;
  clock: Clock;
  allowPrivateTargets: boolean;
  random?: (size: number) => Uint8Array;
  resolve?: Resolve;
}

/** A subscription as people and the API see it: never its secrets. */
export interface WebhookSubscriptionView {
  id: string;
  tenant: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** While a rotation's grace runs: until when the previous secret still signs (ISO 8601). */
  previousSecretValidUntil: string | null;
}

export interface WebhookDeliveryView {
  id: number;
  subscription: string;
  type: string;
  state: WebhookOutboxRecord['state'];
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  finishedAt: string | null;
  log: Array<Omit<StoredWebhookAttempt, 'at' | 'outboxId' | 'subscriptionId' | 'tenantId' | 'eventType' | 'id'> & { at: string }>;
}

export interface WebhookScope {
  /** Only this tenant's (any case). */
  tenant?: string;
  /** For a delivery: only one of this subscription. */
  subscription?: string;
}

export interface SubscribeInput {
  url: string;
  events: readonly string[];
  enabled?: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class WebhookService {
  private readonly random: (size: number) => Uint8Array;
  private readonly newId: () => string;

  constructor(private readonly deps: WebhookServiceDeps) {
    this.random = deps.random ?? ((n) => randomBytes(n));
    this.newId = ulidGenerator(() => deps.clock.now().getTime(), this.random);
  }

  /** Subscribes the tenant; the secret is returned here and never again. */
  async subscribe(tenantName: string, input: SubscribeInput): Promise<{ subscription: WebhookSubscriptionView; secret: string }> {
    const url = parseTargetUrl(input.url);
    const events = eventTypes(input.events);
    const tenant = requireTenant(await this.deps.directory.load(), tenantName);
    await checkTarget(url, this.deps.allowPrivateTargets, this.deps.resolve);
    if ((await this.deps.webhooks.listSubscriptions({ tenantId: tenant.id })).length >= MAX_SUBSCRIPTIONS_PER_TENANT) {
      throw new RelaygateError('conflict', `tenant ${tenant.name} has ${MAX_SUBSCRIPTIONS_PER_TENANT} webhook subscriptions, the most it may have`, {
        details: { tenant: tenant.name, limit: MAX_SUBSCRIPTIONS_PER_TENANT },
      });
    }
    const now = this.deps.clock.now().getTime();
    const record: WebhookSubscriptionRecord = {
      id: `wh_${this.newId()}`, tenantId: tenant.id, url: url.href, eventTypes: events, secret: newSecret(this.random), previousSecret: null,
      previousSecretUntil: null, enabled: input.enabled ?? true, createdAt: now, updatedAt: now,
    };
    await this.deps.webhooks.createSubscription(record);
    return { subscription: view(record, tenant.name, now), secret: record.secret };
  }

  async list(scope: WebhookScope = {}): Promise<WebhookSubscriptionView[]> {
    const directory = await this.deps.directory.load();
    const names = new Map(directory.tenants.map((t) => [t.id, t.name]));
    const tenant = scope.tenant === undefined ? undefined : requireTenant(directory, scope.tenant);
    const now = this.deps.clock.now().getTime();
    const rows = await this.deps.webhooks.listSubscriptions(tenant ? { tenantId: tenant.id } : {});
    return rows.map((s) => view(s, names.get(s.tenantId) ?? s.tenantId, now));
  }

  async show(id: string, scope: WebhookScope = {}): Promise<WebhookSubscriptionView> {
    const { subscription, tenant } = await this.require(id, scope);
    return view(subscription, tenant.name, this.deps.clock.now().getTime());
  }

  /** Turns a subscription on or off; an off one owes nothing for the events meanwhile. */
  async setEnabled(id: string, enabled: boolean, scope: WebhookScope = {}): Promise<WebhookSubscriptionView> {
    const { tenant } = await this.require(id, scope);
    const now = this.deps.clock.now().getTime();
    const after = await this.deps.webhooks.updateSubscription(id, { enabled, updatedAt: now });
    if (!after) throw notFound(id);
    return view(after, tenant.name, now);
  }

  /**
   * A new secret, returned once; the old one keeps signing beside it for `graceMs` (default 24 h,
   * at most 7 days; 0 ends it now), so receivers can switch without missing a message.
   */
  async rotate(id: string, options: { graceMs?: number } = {}, scope: WebhookScope = {}): Promise<{ subscription: WebhookSubscriptionView; secret: string }> {
    const grace = options.graceMs ?? DEFAULT_ROTATION_GRACE_MS;
    if (!Number.isSafeInteger(grace) || grace < 0 || grace > MAX_ROTATION_GRACE_MS) {
      throw invalidField('grace', 'a rotation grace period is between 0 and 7 days');
    }
    const { subscription, tenant } = await this.require(id, scope);
    const now = this.deps.clock.now().getTime();
    const secret = newSecret(this.random);
    const after = await this.deps.webhooks.updateSubscription(id, {
      secret,
      previousSecret: grace === 0 ? null : subscription.secret,
      previousSecretUntil: grace === 0 ? null : now + grace,
      updatedAt: now,
    });
    if (!after) throw notFound(id);
    return { subscription: view(after, tenant.name, now), secret };
  }

  async remove(id: string, scope: WebhookScope = {}): Promise<WebhookSubscriptionView> {
    const { subscription, tenant } = await this.require(id, scope);
    if (!(await this.deps.webhooks.deleteSubscription(id))) throw notFound(id);
    return view(subscription, tenant.name, this.deps.clock.now().getTime());
  }

  /** The subscription's deliveries, newest first, each with its attempts. */
  async deliveries(id: string, scope: WebhookScope = {}, limit = 20): Promise<WebhookDeliveryView[]> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > DELIVERY_LIST_LIMIT) throw invalidField('limit', `expected 1 to ${DELIVERY_LIST_LIMIT}`);
    await this.require(id, scope);
    const rows = await this.deps.webhooks.listOutbox({ subscriptionId: id, limit });
    return Promise.all(rows.map(async (r) => deliveryView(r, await this.deps.webhooks.attempts(r.id))));
  }

  /** One delivery with its attempts and the payload it sends. */
  async delivery(deliveryId: number, scope: WebhookScope = {}): Promise<WebhookDeliveryView & { payload: WebhookPayload }> {
    const row = await this.requireDelivery(deliveryId, scope);
    return { ...deliveryView(row, await this.deps.webhooks.attempts(row.id)), payload: webhookPayload(row) };
  }

  /** Sends a delivery again from its first attempt (same webhook-id, so receivers can tell), whatever its state. */
  async replay(deliveryId: number, scope: WebhookScope = {}): Promise<WebhookDeliveryView> {
    await this.requireDelivery(deliveryId, scope);
    const row = await this.deps.webhooks.replay(deliveryId, this.deps.clock.now().getTime());
    if (!row) throw deliveryNotFound(deliveryId);
    return deliveryView(row, await this.deps.webhooks.attempts(row.id));
  }

  /** Queues a `test` event to the subscription (enabled or not), delivered like any other. */
  async test(id: string, scope: WebhookScope = {}): Promise<WebhookDeliveryView> {
    const { subscription, tenant } = await this.require(id, scope);
    const now = this.deps.clock.now().getTime();
    const event = JSON.stringify({ subscription: subscription.id, tenant: tenant.name, message: 'This is a test event from relaygate.' });
    const row = await this.deps.webhooks.enqueue({ subscriptionId: id, tenantId: tenant.id, eventType: TEST_EVENT_TYPE, event, at: now });
    return deliveryView(row, []);
  }

  private async require(id: string, scope: WebhookScope): Promise<{ subscription: WebhookSubscriptionRecord; tenant: StoredTenant }> {
    const directory = await this.deps.directory.load();
    const scoped = scope.tenant === undefined ? undefined : requireTenant(directory, scope.tenant);
    const subscription = await this.deps.webhooks.getSubscription(id);
    const tenant = subscription ? directory.tenants.find((t) => t.id === subscription.tenantId) : undefined;
    if (!subscription || !tenant || (scoped && scoped.id !== tenant.id)) throw notFound(id);
    return { subscription, tenant };
  }

  private async requireDelivery(deliveryId: number, scope: WebhookScope): Promise<WebhookOutboxRecord> {
    if (!Number.isSafeInteger(deliveryId) || deliveryId < 1) throw invalidField('delivery', `not a delivery id: ${deliveryId}`);
    const row = await this.deps.webhooks.getOutbox(deliveryId);
    if (!row || (scope.subscription !== undefined && row.subscriptionId !== scope.subscription)) throw deliveryNotFound(deliveryId);
    if (scope.tenant !== undefined && requireTenant(await this.deps.directory.load(), scope.tenant).id !== row.tenantId) throw deliveryNotFound(deliveryId);
    return row;
  }
}

function eventTypes(given: readonly string[]): WebhookEventType[] {
  if (given.length === 0) throw invalidField('events', `name at least one event type (${webhookEventTypes.join(', ')})`);
  const out: WebhookEventType[] = [];
  for (const e of given) {
    if (!isWebhookEventType(e)) throw invalidField('events', `unknown event type ${JSON.stringify(e)} (expected ${webhookEventTypes.join(', ')})`);
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

function notFound(id: string): RelaygateError {
  return new RelaygateError('not-found', `webhook subscription ${id} does not exist`, { details: { field: 'id', id } });
}

function deliveryNotFound(id: number): RelaygateError {
  return new RelaygateError('not-found', `webhook delivery ${id} does not exist`, { details: { field: 'delivery', id } });
}

function view(s: WebhookSubscriptionRecord, tenant: string, now: number): WebhookSubscriptionView {
  return {
    id: s.id, tenant, url: s.url, events: [...s.eventTypes], enabled: s.enabled, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt),
    previousSecretValidUntil: s.previousSecret !== null && s.previousSecretUntil !== null && s.previousSecretUntil > now ? iso(s.previousSecretUntil) : null,
  };
}

function deliveryView(r: WebhookOutboxRecord, attempts: readonly StoredWebhookAttempt[]): WebhookDeliveryView {
  return {
    id: r.id, subscription: r.subscriptionId, type: r.eventType, state: r.state, attempts: r.attempts, createdAt: iso(r.createdAt),
    nextAttemptAt: r.state === 'pending' ? iso(r.nextAttemptAt) : null, lastStatus: r.lastStatus, lastError: r.lastError,
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
    log: attempts.map((a) => ({ at: iso(a.at), attempt: a.attempt, outcome: a.outcome, statusCode: a.statusCode, durationMs: a.durationMs, error: a.error })),
  };
}
