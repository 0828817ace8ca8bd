/**
 * Tokens and the audit log. A token creates only tokens no stronger than itself (TokenService's
 * rules); a tenant token sees its own tenant's tokens only. Admins read the audit log.
 */
import { z } from 'zod';
import { RelaygateError } from '../../core/errors.js';
import { parseDuration } from '../../config/units.js';
import { route, type ApiRoute } from '../api-route.js';
import type { AdminDeps } from '../deps.js';
import { limitQuery } from '../schemas.js';

export const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['admin', 'tenant']),
  tenant: z.string().nullable(),
  tenantId: z.string().nullable(),
  scope: z.enum(['read', 'write']),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdBy: z.string().nullable(),
  state: z.enum(['active', 'expired', 'revoked']),
});

const tokenBody = z.strictObject({
  role: z.enum(['admin', 'tenant']),
  tenant: z.string().optional().describe('The tenant (id or name) of a tenant token.'),
  scope: z.enum(['read', 'write']).optional().describe('Default: write.'),
  expires: z.string().optional().describe('A duration such as 90d or 12h; default: no expiry of its own (never past the creating token).'),
  name: z.string().optional(),
});

const auditView = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  actorName: z.string(),
  tenantId: z.string().nullable(),
  action: z.string(),
  target: z.string(),
  clientIp: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});

const idParams = z.strictObject({ id: z.string().min(1) });

export function accessRoutes(deps: AdminDeps): ApiRoute[] {
  return [
    route({
      method: 'GET', path: '/v1/tokens', id: 'listTokens', tag: 'access', access: 'read',
      summary: 'Tokens this token sees (never their secrets)', response: z.array(tokenView),
      handler: async (ctx) => deps.tokens.list(ctx.principal),
    }),
    route({
      method: 'POST', path: '/v1/tokens', id: 'createToken', tag: 'access', access: 'write',
      summary: 'Create a token no stronger than this one; the answer is the only time the token is shown',
      body: tokenBody, response: tokenView.extend({ token: z.string() }), status: 201,
      handler: async (ctx) => {
        let expiresInMs: number | null = null;
        if (ctx.body.expires !== undefined) {
          expiresInMs = /[a-z]\s*$/i.test(ctx.body.expires) ? parseDuration(ctx.body.expires) : null;
          if (expiresInMs === null || expiresInMs <= 0) {
            throw new RelaygateError('invalid', `expected a duration such as 90d or 12h, got ${JSON.stringify(ctx.body.expires)}`, { details: { field: 'expires' } });
          }
        }
        const { token, view } = await deps.tokens.create(ctx.principal, {
          role: ctx.body.role,
          ...(ctx.body.tenant !== undefined ? { tenant: ctx.body.tenant } : {}),
          ...(ctx.body.scope !== undefined ? { scope: ctx.body.scope } : {}),
          ...(ctx.body.name !== undefined ? { name: ctx.body.name } : {}),
          expiresInMs,
        });
        ctx.audit({ tenantId: view.tenantId, before: null, after: view });
        ctx.reply.header('location', `/v1/tokens/${view.id}`);
        return { token, ...view };
      },
    }),
    route({
      method: 'GET', path: '/v1/tokens/{id}', id: 'getToken', tag: 'access', access: 'read',
      summary: 'One token', params: idParams, response: tokenView,
      handler: async (ctx) => deps.tokens.show(ctx.principal, ctx.params.id),
    }),
    route({
      method: 'DELETE', path: '/v1/tokens/{id}', id: 'revokeToken', tag: 'access', access: 'write',
      summary: 'Revoke a token: it stops working at once', params: idParams, response: tokenView,
      handler: async (ctx) => {
        const { before, after } = await deps.tokens.revoke(ctx.principal, ctx.params.id);
        ctx.audit({ tenantId: after.tenantId, before, after });
        return after;
      },
    }),
    route({
      method: 'GET', path: '/v1/audit', id: 'listAudit', tag: 'access', access: 'admin-read',
      summary: 'Writes made through the API, newest first: who, what, before and after',
      query: z.strictObject({
        tenantId: z.string().optional(),
        before: z.string().regex(/^\d{1,15}$/, { error: 'expected an audit record id' }).transform(Number).optional(),
        limit: limitQuery(1000, 100),
      }),
      response: z.array(auditView),
      handler: async (ctx) =>
        deps.audit.list(ctx.principal, {
          limit: ctx.query.limit,
          ...(ctx.query.tenantId !== undefined ? { tenantId: ctx.query.tenantId.toUpperCase() } : {}),
          ...(ctx.query.before !== undefined ? { before: ctx.query.before } : {}),
        }),
    }),
  ];
}
