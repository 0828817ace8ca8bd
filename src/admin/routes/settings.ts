/**
 * A tenant's settings: outbound routes, DKIM keys, SRS, the daily recipient quota and whether
 * relayed mail keeps our X-Relaygate-* fields. The rules are the services' (delivery/*-service.ts,
 * smtp/quota-service.ts), the ones `relaygate route|dkim|srs|quota|headers` apply. Answers carry
 * the tenant settings revision as ETag ("settings-N"); a write with If-Match applies only at it,
 * checked in the store's write transaction.
 */
import { z } from 'zod';
import { visibleTenant } from '../../access/principal.js';
import { RelaygateError } from '../../core/errors.js';
import type { DkimService } from '../../delivery/dkim-service.js';
import type { RelayedHeadersService } from '../../delivery/relayed-headers-service.js';
import { routeView, TLS_MODES, type RoutesService } from '../../delivery/routes-service.js';
import type { SrsService } from '../../delivery/srs-service.js';
import type { QuotaService } from '../../smtp/quota-service.js';
import type { DirectoryStore, SettingsWriteOptions, TenantSettingsStore, TlsMode } from '../../store/ports.js';
import { route, type ApiRoute, type RouteContext } from '../api-route.js';
import { tenantParams } from '../schemas.js';

export interface SettingsDeps {
  directory: Pick<DirectoryStore, 'load'>;
  settings: Pick<TenantSettingsStore, 'revision'>;
  routes: RoutesService;
  dkim: DkimService;
  srs: SrsService;
  quota: QuotaService;
  relayedHeaders: RelayedHeadersService;
}

const routeViewSchema = z.object({
  id: z.number().int(),
  tenant: z.string(),
  domains: z.array(z.string()).readonly(),
  host: z.string(),
  port: z.number().int(),
  tls: z.enum(TLS_MODES as [TlsMode, ...TlsMode[]]),
  authUser: z.string().nullable(),
  clientCert: z.object({ subject: z.string(), validTo: z.string().nullable() }).nullable(),
});

const dkimView = z.object({
  tenant: z.string(),
  domain: z.string(),
  selector: z.string(),
  algorithm: z.enum(['rsa', 'ed25519']),
  publicKey: z.string(),
  name: z.string().describe('Where to publish the key: <selector>._domainkey.<domain>'),
  txt: z.string().describe('The TXT record to publish'),
});

const srsView = z.object({ tenant: z.string(), enabled: z.boolean(), rewriteDomain: z.string().nullable(), effectiveRewriteDomain: z.string() });
const quotaView = z.object({ tenant: z.string(), dailyLimit: z.number().int().nullable(), day: z.string(), recipients: z.number().int() });
const headersView = z.object({ tenant: z.string(), relayed: z.enum(['keep', 'strip']) });

type Ctx = RouteContext<{ tenant: string }, unknown, unknown>;

export function settingsRoutes(deps: SettingsDeps): ApiRoute[] {
  const tenantOf = async (ctx: Ctx) => visibleTenant(ctx.principal, await deps.directory.load(), ctx.params.tenant);
  /** A read: the revision first, so an ETag is never newer than what it answers with. */
  const read = async <T>(ctx: Ctx, fn: (tenant: string) => Promise<T>): Promise<T> => {
    const revision = await deps.settings.revision();
    const tenant = await tenantOf(ctx);
    const answer = await fn(tenant.name);
    ctx.revision(revision);
    return answer;
  };
  /** A write: If-Match is checked now and again in the store's transaction (a write that raced in between). */
  const write = async <T>(ctx: Ctx, fn: (tenant: { id: string; name: string }, options: SettingsWriteOptions) => Promise<T>): Promise<T> => {
    const tenant = await tenantOf(ctx);
    const current = await deps.settings.revision();
    if (ctx.ifMatch !== undefined && ctx.ifMatch !== current) {
      throw new RelaygateError('stale-revision', `the tenant settings are at revision ${current}, not ${ctx.ifMatch}: read them again and retry`, {
        details: { expected: ctx.ifMatch, current },
      });
    }
    const answer = await fn(tenant, ctx.ifMatch !== undefined ? { ifRevision: ctx.ifMatch } : {});
    ctx.revision(await deps.settings.revision());
    return answer;
  };
  const routeIdParams = tenantParams.extend({ id: z.string().regex(/^[1-9]\d{0,15}$/, { error: 'expected a route id' }).transform(Number) });

  return [
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/routes', id: 'listRoutes', tag: 'settings', access: 'read',
      summary: "A tenant's outbound routes (never a password or a key)", params: tenantParams, response: z.array(routeViewSchema), revision: 'settings',
      handler: async (ctx) => read(ctx, async (t) => (await deps.routes.list(t)).map(routeView)),
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/routes', id: 'addRoute', tag: 'settings', access: 'write',
      summary: "Add an outbound route for the tenant's recipient domains", params: tenantParams, status: 201, revision: 'settings',
      body: z.strictObject({
        domains: z.array(z.string()).min(1).describe('d, *.d (every subdomain) or * (all)'),
        host: z.string().describe('host, host:port or [ipv6]:port; port 25 unless given'),
        tls: z.enum(TLS_MODES as [TlsMode, ...TlsMode[]]).optional().describe('Default: opportunistic'),
        auth: z.strictObject({ user: z.string(), pass: z.string() }).optional(),
        clientCert: z.strictObject({ cert: z.string().describe('PEM'), key: z.string().describe('PEM, unencrypted') }).optional(),
      }),
      response: z.object({ route: routeViewSchema, warnings: z.array(z.object({ code: z.string(), tls: z.string() })) }),
      handler: async (ctx) =>
        write(ctx, async (t, options) => {
          const { route: stored, warnings } = await deps.routes.add(
            t.name,
            { domains: ctx.body.domains, host: ctx.body.host, tls: ctx.body.tls ?? 'opportunistic', auth: ctx.body.auth ?? null, clientCert: ctx.body.clientCert ?? null },
            options,
          );
          ctx.audit({ tenantId: t.id, before: null, after: routeView(stored) });
          ctx.reply.header('location', `/v1/tenants/${t.id}/routes/${stored.id}`);
          return { route: routeView(stored), warnings };
        }),
    }),
    route({
      method: 'DELETE', path: '/v1/tenants/{tenant}/routes/{id}', id: 'removeRoute', tag: 'settings', access: 'write',
      summary: 'Remove an outbound route', params: routeIdParams, response: routeViewSchema, revision: 'settings',
      handler: async (ctx) =>
        write(ctx as unknown as Ctx, async (t, options) => {
          const removed = routeView(await deps.routes.remove(t.name, ctx.params.id, options));
          ctx.audit({ tenantId: t.id, before: removed, after: null });
          return removed;
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/dkim-keys', id: 'listDkimKeys', tag: 'settings', access: 'read',
      summary: "A tenant's DKIM keys with the TXT records to publish (never a private key)", params: tenantParams, response: z.array(dkimView), revision: 'settings',
      handler: async (ctx) => read(ctx, (t) => deps.dkim.list(t)),
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/dkim-keys', id: 'generateDkimKey', tag: 'settings', access: 'write',
      summary: 'Make a DKIM key for a domain and selector (replacing the key of that selector); delivery signs with it from its next pass',
      params: tenantParams, status: 201, revision: 'settings',
      body: z.strictObject({ domain: z.string(), selector: z.string(), algorithm: z.enum(['rsa', 'ed25519']).optional().describe('Default: rsa'), bits: z.number().int().optional().describe('RSA key size, default 2048') }),
      response: dkimView,
      handler: async (ctx) =>
        write(ctx, async (t, options) => {
          const key = await deps.dkim.generate({ tenant: t.name, domain: ctx.body.domain, selector: ctx.body.selector, algorithm: ctx.body.algorithm ?? 'rsa', bits: ctx.body.bits ?? 2048 }, options);
          ctx.audit({ tenantId: t.id, before: null, after: key });
          return key;
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/srs', id: 'getSrs', tag: 'settings', access: 'read',
      summary: "The tenant's SRS setting", params: tenantParams, response: srsView, revision: 'settings',
      handler: async (ctx) => read(ctx, async (t) => (await deps.srs.show(t))[0]!),
    }),
    route({
      method: 'PUT', path: '/v1/tenants/{tenant}/srs', id: 'setSrs', tag: 'settings', access: 'write',
      summary: 'Change SRS: on or off, and the rewrite domain (null: the server\'s)', params: tenantParams, revision: 'settings',
      body: z.strictObject({ enabled: z.boolean().optional(), rewriteDomain: z.string().nullable().optional() }),
      response: srsView,
      handler: async (ctx) =>
        write(ctx, async (t, options) => {
          const { before, after } = await deps.srs.set(t.name, ctx.body, options);
          ctx.audit({ tenantId: t.id, before, after });
          return after;
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/quota', id: 'getQuota', tag: 'settings', access: 'read',
      summary: "The tenant's daily recipient limit and today's count (UTC)", params: tenantParams, response: quotaView, revision: 'settings',
      handler: async (ctx) => read(ctx, async (t) => (await deps.quota.show(t))[0]!),
    }),
    route({
      method: 'PUT', path: '/v1/tenants/{tenant}/quota', id: 'setQuota', tag: 'settings', access: 'write',
      summary: 'Set the daily recipient limit (a whole number, 0 refuses all; null: unlimited)', params: tenantParams, revision: 'settings',
      body: z.strictObject({ dailyLimit: z.number().nullable() }),
      response: quotaView,
      handler: async (ctx) =>
        write(ctx, async (t, options) => {
          const set = await deps.quota.set(t.name, ctx.body.dailyLimit, options);
          ctx.audit({ tenantId: t.id, before: { dailyLimit: set.before }, after: { dailyLimit: set.after } });
          return (await deps.quota.show(t.name))[0]!;
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/headers', id: 'getRelayedHeaders', tag: 'settings', access: 'read',
      summary: 'Whether mail the tenant relays to outside recipients keeps our X-Relaygate-* fields', params: tenantParams, response: headersView, revision: 'settings',
      handler: async (ctx) => read(ctx, async (t) => {
        const [v] = await deps.relayedHeaders.show(t);
        return { tenant: v!.tenant, relayed: v!.keep ? ('keep' as const) : ('strip' as const) };
      }),
    }),
    route({
      method: 'PUT', path: '/v1/tenants/{tenant}/headers', id: 'setRelayedHeaders', tag: 'settings', access: 'write',
      summary: 'Keep or strip our X-Relaygate-* fields on relayed mail', params: tenantParams, revision: 'settings',
      body: z.strictObject({ relayed: z.enum(['keep', 'strip']) }),
      response: headersView,
      handler: async (ctx) =>
        write(ctx, async (t, options) => {
          const { before, after } = await deps.relayedHeaders.set(t.name, ctx.body.relayed === 'keep', options);
          ctx.audit({ tenantId: t.id, before, after });
          return { tenant: after.tenant, relayed: ctx.body.relayed };
        }),
    }),
  ];
}
