/**
 * The admin API on a real SQLite store in a temporary folder, composed as `serve` composes it
 * (app/admin.ts), with a hand-moved clock and one token of each kind the tests need. Requests go
 * in-process (fastify's inject) or, after `listen()`, over HTTP on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operator } from '../../src/access/principal.js';
import { TokenService } from '../../src/access/tokens.js';
import { adminApi, type AdminParts } from '../../src/app/admin.js';
import { openSqliteStores, type SqliteStores } from '../../src/app/stores.js';
import type { AdminApi } from '../../src/admin/server.js';
import { ManualClock } from '../../src/core/clock.js';
import { parseDirectoryYaml, type StoredTenant } from '../../src/directory/index.js';
import { accepted } from '../../src/store/queue-contract.js';
import { emptyContext } from '../../src/trace/events.js';
import { WebhookService } from '../../src/webhooks/webhook-service.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const HARNESS_DIRECTORY = `
tenants:
  - name: contoso
    acceptedDomains:
      - { domain: contoso.example }
      - { domain: relay.contoso.example }
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [127.0.0.1/32] }
      - { name: mailserver, type: OnPremises, tlsSenderCertificateName: relay.contoso.example }
  - name: fabrikam
    acceptedDomains:
      - { domain: fabrikam.example }
    inboundConnectors:
      - { name: partner, type: Partner, senderDomains: [partner.example], senderIPAddresses: [127.0.0.7/32], restrictDomainsToIPAddresses: true }
`;

export type TokenKind = 'admin' | 'adminRead' | 'contoso' | 'contosoRead' | 'fabrikam' | 'expired' | 'revoked';

export interface InjectOptions {
  token?: string | null;
  body?: unknown;
  /** A raw body with its content type. */
  payload?: string | Buffer;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

export interface InjectAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json(): any;
}

export interface AdminHarness {
  dir: string;
  stores: SqliteStores;
  clock: ManualClock;
  api: AdminApi;
  tokens: Record<TokenKind, string>;
  tokenIds: Record<TokenKind, string>;
  contoso: StoredTenant;
  fabrikam: StoredTenant;
  /** Queued messages (each with two recipients) of each tenant, in arrival order. */
  messages: { contoso: string[]; fabrikam: string[] };
  /** An outbound route of contoso. */
  routeId: number;
  /** A webhook subscription of contoso, and a (test event) delivery of it. */
  webhookId: string;
  webhookDeliveryId: number;
  inject(method: string, url: string, options?: InjectOptions): Promise<InjectAnswer>;
  close(): Promise<void>;
}

export const START = new Date('2026-06-01T10:00:00Z');

export async function adminHarness(
  settings: Partial<AdminParts['config']['admin']> = {},
  trust: { tlsClientCa?: string; demoClientCa?: string } = {},
): Promise<AdminHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-admin-'));
  const stores = openSqliteStores({ dataDir: join(dir, 'data') });
  await stores.directory.replace(parseDirectoryYaml(HARNESS_DIRECTORY));
  const clock = new ManualClock(START);
  const service = new TokenService({ tokens: stores.tokens, directory: stores.directory, clock });
  const make = async (kind: TokenKind, request: Parameters<TokenService['create']>[1]) => {
    const { token, view } = await service.create(operator, { ...request, name: kind });
    return [kind, token, view.id] as const;
  };
  const made = await Promise.all([
    make('admin', { role: 'admin', scope: 'write' }),
    make('adminRead', { role: 'admin', scope: 'read' }),
    make('contoso', { role: 'tenant', tenant: 'contoso', scope: 'write' }),
    make('contosoRead', { role: 'tenant', tenant: 'contoso', scope: 'read' }),
    make('fabrikam', { role: 'tenant', tenant: 'fabrikam', scope: 'write' }),
    make('expired', { role: 'admin', scope: 'write', expiresInMs: 60_000 }),
    make('revoked', { role: 'admin', scope: 'write' }),
  ]);
  const tokens = Object.fromEntries(made.map(([k, t]) => [k, t])) as Record<TokenKind, string>;
  const tokenIds = Object.fromEntries(made.map(([k, , id]) => [k, id])) as Record<TokenKind, string>;
  await service.revoke(operator, tokenIds.revoked);
  clock.advance(120_000);
  const api = adminApi({
    stores,
    clock,
    ...(trust.demoClientCa ? { clientCa: trust.demoClientCa } : {}),
    config: {
      hostname: 'relay.test',
      delivery: {},
      limits: { allowAddressLiterals: false },
      tls: trust.tlsClientCa ? { clientCa: trust.tlsClientCa } : {},
      admin: {
        address: '127.0.0.1:0', host: '127.0.0.1', port: 0, tls: null,
        maxAuthFailures: 5, authFailureWindow: 60_000, maxBodySize: 256 * 1024,
        ...settings,
      },
    },
  });
  await api.app.ready();
  const { tenants } = await stores.directory.load();
  const idOf = (name: string) => tenants.find((t) => t.name === name)!.id;
  const queued = [
    accepted({ tenant: 'contoso', tenantId: idOf('contoso'), receivedAt: START.getTime() - 3_600_000, subject: 'report' }, ['a@remote.test', 'b@other.test']),
    accepted({ tenant: 'contoso', tenantId: idOf('contoso'), receivedAt: START.getTime() - 1_800_000, subject: 'invoice' }, ['c@remote.test', 'd@other.test']),
    accepted({ tenant: 'fabrikam', tenantId: idOf('fabrikam'), receivedAt: START.getTime() - 600_000, subject: 'secret' }, ['e@remote.test', 'f@other.test']),
  ];
  for (const m of queued) {
    const body = await stores.bodies.create(m.id);
    await pipeline(Readable.from([Buffer.from(`From: ${m.mailFrom}\r\nSubject: ${m.subject}\r\n\r\nbody\r\n`)]), body.writable());
    await body.commit();
  }
  await stores.queue.commit({ messages: queued, decisions: [] });
  // What the trace holds of each message: the operator held it (a trace event of its own kind).
  await stores.trace.append(
    queued.map((m, i) => ({
      ...emptyContext(m.receivedAt + 1000 + i),
      tenantId: m.tenantId, tenant: m.tenant, queueId: m.id, sender: m.mailFrom, recipient: m.recipients[0]!.address,
      kind: 'held' as const, status: 'Pending' as const, by: 'cli:test',
    })),
  );
  const webhooks = new WebhookService({ directory: stores.directory, webhooks: stores.webhooks, clock, allowPrivateTargets: false });
  const webhook = (await webhooks.subscribe('contoso', { url: 'https://93.184.215.14/hooks/relaygate', events: ['delivered', 'refused'] })).subscription;
  const webhookDelivery = await webhooks.test(webhook.id);
  const route = await stores.tenantSettings.addRoute(idOf('contoso'), { domains: ['remote.test'], host: 'smart.contoso.example', port: 25, tls: 'required', auth: { user: 'relay', pass: 'hunter2' }, clientCert: null });
  return {
    dir,
    stores,
    clock,
    api,
    tokens,
    tokenIds,
    contoso: tenants.find((t) => t.name === 'contoso')!,
    fabrikam: tenants.find((t) => t.name === 'fabrikam')!,
    messages: { contoso: [queued[0]!.id, queued[1]!.id], fabrikam: [queued[2]!.id] },
    routeId: route.id,
    webhookId: webhook.id,
    webhookDeliveryId: webhookDelivery.id,
    async inject(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let payload: string | Buffer | undefined = options.payload;
      if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const r = await api.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload !== undefined ? { payload } : {}),
        ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
      });
      return { status: r.statusCode, headers: r.headers, body: r.body, json: () => JSON.parse(r.body) };
    },
    async close() {
      await api.app.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
