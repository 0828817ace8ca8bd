/**
 * What the delivery integration tests share: a temp data dir with a real SQLite file, a test DNS
 * server, receiving SMTP servers on 127.0.0.x sharing one port (MX delivery uses one port), messages
 * queued through the front end's real accept store and spool, and a DeliveryService on a ManualClock.
 * The directory holds the tenants the tests queue for (contoso, fabrikam), so their settings have a
 * tenant to belong to.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { domainPartOf } from '../../src/core/address.js';
import { ManualClock } from '../../src/core/clock.js';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/database.js';
import { SqliteDestinationBudget } from '../../src/store/sqlite/destination-budget.js';
import { SqliteQueueStore } from '../../src/store/sqlite/queue-store.js';
import { SqliteSrsMintedStore } from '../../src/store/sqlite/srs-minted-store.js';
import { SqliteQueueAdminStore } from '../../src/store/sqlite/queue-admin-store.js';
import type { QueueAdminStore, QueueEntry, QueueStore } from '../../src/store/ports.js';
import { FileBodyStore } from '../../src/store/filesystem/body-store.js';
import { newQueueId } from '../../src/queue/queue-id.js';
import type { AcceptedMessage, AcceptedRecipient } from '../../src/store/ports.js';
import { DeliveryService, type DeliveryDeps } from '../../src/app/delivery.js';
import { validateDirectory, type TenantId } from '../../src/directory/index.js';
import { buildSnapshot } from '../../src/policy/index.js';
import { SqliteDirectoryStore } from '../../src/store/sqlite/directory-store.js';
import { SqliteServerSecrets } from '../../src/store/sqlite/server-secrets.js';
import { SqliteTenantSettingsStore } from '../../src/store/sqlite/tenant-settings-store.js';
import { TenantSettingsCache } from '../../src/store/tenant-settings-snapshot.js';
import { TestDnsServer } from '../support/dns-server.js';
import { SmtpReceiver, type ReceiverBehaviour } from '../support/smtp-receiver.js';

export const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

export interface QueueInput {
  from: string;
  to: Array<string | Partial<AcceptedRecipient> & { address: string }>;
  tenant?: string | null;
  headerFrom?: string | null;
  body?: string;
  envId?: string | null;
  ret?: 'FULL' | 'HDRS' | null;
  receivedAt?: number;
}

export class DeliveryHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'relaygate-delivery-'));
  readonly clock = new ManualClock(new Date(T0));
  readonly dns = new TestDnsServer();
  readonly receivers: SmtpReceiver[] = [];
  db!: SqliteDatabase;
  /** The queue as serve has it (app/stores.ts builds the same adapters). */
  queue!: QueueStore;
  queueAdmin!: QueueAdminStore;
  /** The spool, as serve keeps it: files under <dir>/spool. */
  readonly bodies = new FileBodyStore(join(this.dir, 'spool'));
  service!: DeliveryService;
  /** The tenant settings store on the same database (DKIM keys, routes, SRS). */
  settings!: SqliteTenantSettingsStore;
  /** The SRS secret the service signs with. */
  srsSecret = '';
  private readonly tenantIds = new Map<string, TenantId>();
  dnsAddress = '';
  port = 0;
  /** (tenant, domain) pairs the stand-in for the policy engine calls accepted. */
  readonly accepted = new Set<string>(['contoso/contoso.test']);

  async start(): Promise<void> {
    this.dnsAddress = await this.dns.start();
    this.openDb();
    const directory = new SqliteDirectoryStore(this.db);
    await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
    for (const t of (await directory.load()).tenants) this.tenantIds.set(t.name, t.id);
    this.srsSecret = await new SqliteServerSecrets(this.db).secret('srs', T0);
  }

  /** The id of one of the harness's tenants. */
  tenantId(name: string): TenantId {
    const id = this.tenantIds.get(name);
    if (id === undefined) throw new Error(`the harness has no tenant ${name}`);
    return id;
  }

  /** A started harness whose DNS sends remote.test (the usual destination) to 127.0.0.1. */
  static async started(): Promise<DeliveryHarness> {
    const h = new DeliveryHarness();
    await h.start();
    h.dns.set('remote.test', { MX: [{ preference: 10, exchange: 'mx1.remote.test' }] }).set('mx1.remote.test', { A: ['127.0.0.1'] });
    return h;
  }

  openDb(): void {
    this.db = openSqlite(join(this.dir, 'relaygate.db'));
    this.queue = new SqliteQueueStore(this.db);
    this.queueAdmin = new SqliteQueueAdminStore(this.db);
    this.settings = new SqliteTenantSettingsStore(this.db);
  }

  /** A receiver on 127.0.0.`n`, all on the same port (the first one picks it). */
  async receiver(n: number, behaviour: ReceiverBehaviour = {}): Promise<SmtpReceiver> {
    const r = new SmtpReceiver(behaviour);
    this.port = await r.start(`127.0.0.${n}`, this.port);
    this.receivers.push(r);
    return r;
  }

  makeService(over: Partial<DeliveryDeps> = {}): DeliveryService {
    const directory = new SqliteDirectoryStore(this.db);
    this.service = new DeliveryService({
      queue: this.queue,
      nodeId: 'test-node',
      bodies: this.bodies,
      settings: new TenantSettingsCache(this.settings, { snapshot: async () => buildSnapshot(await directory.load()) }, 0),
      srsSecret: this.srsSecret,
      hostname: 'relay.test',
      delivery: {
        retry: [60_000, 300_000, 900_000, 1_800_000, 3_600_000],
        expireAfter: 24 * 3_600_000,
        delayNotifyAfter: 4 * 3_600_000,
        dns: { servers: [this.dnsAddress], timeout: 1_000 },
        routes: [],
        // The test zone's MX hosts are the receivers on 127.0.0.x: the lab switch, not the default.
        allowLocalAddresses: true,
      },
      senderDomainAccepted: async (tenantId, domain) => [...this.tenantIds].some(([name, id]) => id === tenantId && this.accepted.has(`${name}/${domain}`)),
      srsMinted: new SqliteSrsMintedStore(this.db),
      destinationBudget: new SqliteDestinationBudget(this.db),
      clock: this.clock,
      random: () => 0.99,
      mxPort: this.port,
      socketTimeoutMs: 3_000,
      ...over,
    });
    return this.service;
  }

  /** Queues a message the way the SMTP front end does: body, then rows in one commit. */
  async enqueue(input: QueueInput): Promise<string> {
    const receivedAt = input.receivedAt ?? this.clock.now().getTime();
    const id = newQueueId(new Date(receivedAt));
    const body = input.body ?? `From: ${input.headerFrom ?? input.from}\r\nTo: ${input.to.map((t) => (typeof t === 'string' ? t : t.address)).join(', ')}\r\nSubject: test ${id}\r\nDate: Mon, 02 Mar 2026 08:00:00 +0000\r\nMessage-ID: <${id}@contoso.test>\r\n\r\nHello from the test.\r\n`;
    const writer = await this.bodies.create(id);
    await pipeline(Readable.from([Buffer.from(body)]), writer.writable());
    await writer.commit();
    const tenant = input.tenant === undefined ? 'contoso' : input.tenant;
    const message: AcceptedMessage = {
      // Queued as acceptance does: under the tenant's id, with its name for display.
      id, tenantId: tenant === null ? null : this.tenantId(tenant), tenant, connector: null, attribution: 'ip', directionality: 'Originating',
      mailFrom: input.from, envId: input.envId ?? null, ret: input.ret ?? null, bodyType: null, smtputf8: false,
      size: Buffer.byteLength(body), clientIp: '127.0.0.1', clientHelo: 'client.test', tls: null,
      headerFrom: input.headerFrom === undefined ? input.from : input.headerFrom, subject: `test ${id}`, messageIdHeader: null, receivedAt,
      recipients: input.to.map((t) => {
        const r = typeof t === 'string' ? { address: t } : t;
        return {
          address: r.address, domain: domainPartOf(r.address), notify: r.notify ?? null, orcpt: r.orcpt ?? null,
          state: r.state ?? 'queued', lastReply: r.lastReply ?? null, dsnStatus: r.dsnStatus ?? null,
          // The harness queues as a tenant's relayed mail unless a test says otherwise.
          verdict: r.verdict ?? 'relay',
        };
      }),
    };
    await this.queue.commit({ messages: [message], decisions: [] });
    return id;
  }

  /** Every queued message, as the operator sees it. */
  queued(): Promise<QueueEntry[]> {
    return this.queueAdmin.select({}, { limit: 100_000 });
  }

  /** Every recipient in the order they were queued, for assertions. */
  async recipients(): Promise<Array<{ message_id: string; address: string; state: string; attempts: number; next_attempt_at: number; last_reply: string | null; dsn_status: string | null; delayed_dsn_sent: number }>> {
    return (await this.queued())
      .flatMap((e) => e.recipients)
      .sort((a, b) => a.id - b.id)
      .map((r) => ({
        message_id: r.messageId, address: r.address, state: r.state, attempts: r.attempts, next_attempt_at: r.nextAttemptAt,
        last_reply: r.lastReply, dsn_status: r.dsnStatus, delayed_dsn_sent: r.delayNoticeSent ? 1 : 0,
      }));
  }

  async messages(): Promise<Array<{ id: string; kind: string; mail_from: string }>> {
    return (await this.queued()).map((e) => ({ id: e.message.id, kind: e.message.kind, mail_from: e.message.mailFrom }));
  }

  /** A resolver on the test DNS server, in the shape mailauth's `resolver` option wants. */
  mailauthResolver(): (name: string, type: string) => Promise<string[][]> {
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([this.dnsAddress]);
    return (name, type) => (type === 'TXT' ? r.resolveTxt(name) : Promise.reject(new Error(`no ${type} in tests`)));
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    for (const r of this.receivers) await r.stop();
    await this.dns.stop();
    this.db?.close();
  }
}

export function write(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
