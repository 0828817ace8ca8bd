/**
 * The directory: tenants, their accepted domains and their inbound connectors. Reads answer with
 * the directory revision as ETag; writes take If-Match and go through the DirectoryStore's edits
 * (the directory's rules, one transaction), the same the CLI's tenant, domain and connector
 * commands make. A tenant token sees and edits only its own tenant.
 */
import { z } from 'zod';
import { isAdmin, visibleTenant, visibleTenants } from '../../access/principal.js';
import { normalizeDomain } from '../../core/domain.js';
import { RelaygateError } from '../../core/errors.js';
import type { DirectoryChange, StoredDirectory, StoredTenant } from '../../directory/index.js';
import { route, type ApiRoute, type RouteContext } from '../api-route.js';
import type { AdminDeps } from '../deps.js';
import { directoryWrite } from '../revision.js';
import {
  acceptedDomainView,
  changesAnswer,
  connectorBody,
  connectorPatchBody,
  connectorView,
  domainBody,
  tenantBody,
  tenantParams,
  tenantPatchBody,
  tenantView,
} from '../schemas.js';

const connectorParams = tenantParams.extend({ name: z.string().min(1) });
const domainParams = tenantParams.extend({ domain: z.string().min(1) });

function tenantById(directory: StoredDirectory, id: string): StoredTenant | undefined {
  return directory.tenants.find((t) => t.id === id);
}

function connectorOf(t: StoredTenant, name: string) {
  const c = t.inboundConnectors.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!c) throw new RelaygateError('not-found', `tenant ${t.name} has no connector ${name}`, { details: { field: 'name' } });
  return c;
}

function requireChange(body: object): void {
  if (Object.keys(body).length === 0) throw new RelaygateError('invalid', 'nothing to change: the body names no field');
}

export function directoryRoutes(deps: AdminDeps): ApiRoute[] {
  const store = deps.directory;
  /** The directory after a write, for the answer and the audit log. */
  const reload = () => store.load();
  type Ctx = RouteContext<unknown, unknown, unknown>;
  const write = <T>(ctx: Ctx, fn: (d: StoredDirectory, ifRevision: number) => Promise<{ changes: DirectoryChange[]; answer: T }>) =>
    directoryWrite(store, ctx, fn);
  const read = async (ctx: Ctx) => {
    const { directory, revision } = await store.loadWithRevision();
    ctx.revision(revision);
    return directory;
  };

  return [
    route({
      method: 'GET', path: '/v1/tenants', id: 'listTenants', tag: 'directory', access: 'read',
      summary: 'The tenants this token sees (a tenant token: its own)',
      response: z.array(tenantView), revision: 'directory',
      handler: async (ctx) => visibleTenants(ctx.principal, await read(ctx)),
    }),
    route({
      method: 'POST', path: '/v1/tenants', id: 'createTenant', tag: 'directory', access: 'admin-write',
      summary: 'Add a tenant, with its domains and connectors if given',
      body: tenantBody, response: changesAnswer.extend({ tenant: tenantView }), status: 201, revision: 'directory',
      handler: async (ctx) =>
        write(ctx, async (_d, ifRevision) => {
          const changes = await store.addTenant(ctx.body, { ifRevision });
          const tenant = (await reload()).tenants.find((t) => t.name.toLowerCase() === ctx.body.name.toLowerCase())!;
          ctx.audit({ tenantId: tenant.id, before: null, after: tenant });
          ctx.reply.header('location', `/v1/tenants/${tenant.id}`);
          return { changes, answer: { revision: ifRevision + 1, changes, tenant } };
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}', id: 'getTenant', tag: 'directory', access: 'read',
      summary: 'One tenant with its domains and connectors', params: tenantParams, response: tenantView, revision: 'directory',
      handler: async (ctx) => visibleTenant(ctx.principal, await read(ctx), ctx.params.tenant),
    }),
    route({
      method: 'PATCH', path: '/v1/tenants/{tenant}', id: 'updateTenant', tag: 'directory', access: 'write',
      summary: "Change a tenant's settings (rule set, Direct Send)", params: tenantParams, body: tenantPatchBody,
      response: changesAnswer.extend({ tenant: tenantView }), revision: 'directory',
      handler: async (ctx) => {
        requireChange(ctx.body);
        return write(ctx, async (d, ifRevision) => {
          const before = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const changes = await store.updateTenant(before.name, ctx.body, { ifRevision });
          const after = tenantById(await reload(), before.id)!;
          ctx.audit({ tenantId: before.id, before, after });
          return { changes, answer: { revision: changes.length ? ifRevision + 1 : ifRevision, changes, tenant: after } };
        });
      },
    }),
    route({
      method: 'DELETE', path: '/v1/tenants/{tenant}', id: 'deleteTenant', tag: 'directory', access: 'admin-write',
      summary: 'Remove a tenant with its domains, connectors, settings and tokens (its queued mail stays)',
      params: tenantParams, response: changesAnswer, revision: 'directory',
      handler: async (ctx) =>
        write(ctx, async (d, ifRevision) => {
          const before = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const changes = await store.removeTenant(before.name, { ifRevision });
          ctx.audit({ tenantId: before.id, before, after: null });
          return { changes, answer: { revision: ifRevision + 1, changes } };
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/domains', id: 'listDomains', tag: 'directory', access: 'read',
      summary: "A tenant's accepted domains", params: tenantParams, response: z.array(acceptedDomainView), revision: 'directory',
      handler: async (ctx) => visibleTenant(ctx.principal, await read(ctx), ctx.params.tenant).acceptedDomains,
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/domains', id: 'addDomain', tag: 'directory', access: 'write',
      summary: 'Add an accepted domain to a tenant', params: tenantParams, body: domainBody,
      response: changesAnswer.extend({ domain: acceptedDomainView }), status: 201, revision: 'directory',
      handler: async (ctx) =>
        write(ctx, async (d, ifRevision) => {
          const tenant = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const name = normalizeDomain(ctx.body.domain);
          const owner = name === null ? undefined : d.tenants.find((t) => t.acceptedDomains.some((x) => x.domain === name));
          // A tenant token learns that the domain is taken, never by whom.
          if (owner && owner.id !== tenant.id && !isAdmin(ctx.principal)) {
            throw new RelaygateError('conflict', `${name} is an accepted domain of another tenant`, { details: { field: 'domain' } });
          }
          const changes = await store.addDomain(tenant.name, ctx.body, { ifRevision });
          const domain = tenantById(await reload(), tenant.id)!.acceptedDomains.find((x) => x.domain === name)!;
          ctx.audit({ tenantId: tenant.id, before: null, after: domain });
          ctx.reply.header('location', `/v1/tenants/${tenant.id}/domains/${domain.domain}`);
          return { changes, answer: { revision: ifRevision + 1, changes, domain } };
        }),
    }),
    route({
      method: 'DELETE', path: '/v1/tenants/{tenant}/domains/{domain}', id: 'removeDomain', tag: 'directory', access: 'write',
      summary: 'Remove an accepted domain of a tenant', params: domainParams, response: changesAnswer, revision: 'directory',
      handler: async (ctx) =>
        write(ctx, async (d, ifRevision) => {
          const tenant = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const name = normalizeDomain(ctx.params.domain) ?? ctx.params.domain;
          const before = tenant.acceptedDomains.find((x) => x.domain === name);
          if (!before) throw new RelaygateError('not-found', `${ctx.params.domain} is not an accepted domain of tenant ${tenant.name}`, { details: { field: 'domain' } });
          const changes = await store.removeDomain(name, { ifRevision });
          ctx.audit({ tenantId: tenant.id, before, after: null });
          return { changes, answer: { revision: ifRevision + 1, changes } };
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/connectors', id: 'listConnectors', tag: 'directory', access: 'read',
      summary: "A tenant's inbound connectors", params: tenantParams, response: z.array(connectorView), revision: 'directory',
      handler: async (ctx) => visibleTenant(ctx.principal, await read(ctx), ctx.params.tenant).inboundConnectors,
    }),
    route({
      method: 'POST', path: '/v1/tenants/{tenant}/connectors', id: 'addConnector', tag: 'directory', access: 'write',
      summary: 'Add an inbound connector to a tenant', params: tenantParams, body: connectorBody,
      response: changesAnswer.extend({ connector: connectorView }), status: 201, revision: 'directory',
      handler: async (ctx) =>
        write(ctx, async (d, ifRevision) => {
          const tenant = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const changes = await store.addConnector(tenant.name, ctx.body, { ifRevision });
          const connector = connectorOf(tenantById(await reload(), tenant.id)!, ctx.body.name);
          ctx.audit({ tenantId: tenant.id, before: null, after: connector });
          ctx.reply.header('location', `/v1/tenants/${tenant.id}/connectors/${encodeURIComponent(connector.name)}`);
          return { changes, answer: { revision: ifRevision + 1, changes, connector } };
        }),
    }),
    route({
      method: 'GET', path: '/v1/tenants/{tenant}/connectors/{name}', id: 'getConnector', tag: 'directory', access: 'read',
      summary: 'One inbound connector', params: connectorParams, response: connectorView, revision: 'directory',
      handler: async (ctx) => connectorOf(visibleTenant(ctx.principal, await read(ctx), ctx.params.tenant), ctx.params.name),
    }),
    route({
      method: 'PATCH', path: '/v1/tenants/{tenant}/connectors/{name}', id: 'updateConnector', tag: 'directory', access: 'write',
      summary: 'Change settings of an inbound connector (a list given replaces the whole list)', params: connectorParams, body: connectorPatchBody,
      response: changesAnswer.extend({ connector: connectorView }), revision: 'directory',
      handler: async (ctx) => {
        requireChange(ctx.body);
        return write(ctx, async (d, ifRevision) => {
          const tenant = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const before = connectorOf(tenant, ctx.params.name);
          const changes = await store.updateConnector(tenant.name, before.name, ctx.body, { ifRevision });
          const after = connectorOf(tenantById(await reload(), tenant.id)!, before.name);
          ctx.audit({ tenantId: tenant.id, before, after });
          return { changes, answer: { revision: changes.length ? ifRevision + 1 : ifRevision, changes, connector: after } };
        });
      },
    }),
    route({
      method: 'DELETE', path: '/v1/tenants/{tenant}/connectors/{name}', id: 'removeConnector', tag: 'directory', access: 'write',
      summary: 'Remove an inbound connector', params: connectorParams, response: changesAnswer, revision: 'directory',
      handler: async (ctx) =>
        write(ctx, async (d, ifRevision) => {
          const tenant = visibleTenant(ctx.principal, d, ctx.params.tenant);
          const before = connectorOf(tenant, ctx.params.name);
          const changes = await store.removeConnector(tenant.name, before.name, { ifRevision });
          ctx.audit({ tenantId: tenant.id, before, after: null });
          return { changes, answer: { revision: ifRevision + 1, changes } };
        }),
    }),
  ];
}
