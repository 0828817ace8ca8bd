/**
 * A destination's limits hold for the cluster, not per node: three delivery services, each its own
 * node id with its own pool, share one PostgreSQL queue and deliver to one receiving server, which
 * records the most connections it ever had open at once. Each node alone would open up to the
 * configured concurrency; together they never pass it, because each takes its share of the
 * destination's slots from the database before it connects. The per-minute rate is one count for
 * all of them in the same way.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { DeliveryService } from '../../src/app/delivery.js';
import { openStores, type Stores } from '../../src/app/stores.js';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import { buildSnapshot } from '../../src/policy/index.js';
import { newQueueId } from '../../src/queue/queue-id.js';
import { TenantSettingsCache } from '../../src/store/tenant-settings-snapshot.js';
import { freshSchema, testDatabase } from '../support/postgres.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';

const database = testDatabase('cluster-limits');
const dir = mkdtempSync(join(tmpdir(), 'relaygate-cluster-limits-'));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

interface Node {
  stores: Stores;
  service: DeliveryService;
}

async function node(url: string, id: string, port: number, limits: { perDestinationConcurrency?: number; perDestinationPerMinute?: number }, clock?: Clock): Promise<Node> {
  const stores = await openStores({ dataDir: join(dir, id), store: url, postgres: { poolSize: 4, statementTimeout: 30_000, idleInTransactionTimeout: 60_000 } });
  const service = new DeliveryService({
    queue: stores.queue,
    nodeId: id,
    bodies: stores.bodies,
    settings: new TenantSettingsCache(stores.tenantSettings, { snapshot: async () => buildSnapshot(await stores.directory.load()) }, 0),
    srsSecret: 'cluster-limits-test-secret',
    hostname: `${id}.test`,
    delivery: {
      retry: [60_000], expireAfter: 86_400_000, delayNotifyAfter: 14_400_000, dns: { servers: [], timeout: 1_000 },
      routes: [{ domains: ['remote.test'], host: '127.0.0.1', port, tls: 'none' }],
    },
    senderDomainAccepted: async () => false,
    srsMinted: stores.srsMinted,
    throttle: limits,
    destinationBudget: stores.destinationBudget,
    leaseMs: 60_000,
    pollIntervalMs: 50,
    // Small batches: every node has work for the destination at the same time.
    batchSize: 12,
    socketTimeoutMs: 10_000,
    ...(clock ? { clock } : {}),
  });
  cleanups.push(async () => {
    await service.stop();
    await stores.close();
  });
  return { stores, service };
}

/** Queues `n` messages to remote.test as acceptance does: body committed, then the rows. */
async function enqueue(stores: Stores, n: number, at: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = newQueueId(new Date(at));
    const body = `From: app@contoso.test\r\nTo: u${i}@remote.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@contoso.test>\r\n\r\nmessage ${i}\r\n`;
    const writer = await stores.bodies.create(id);
    await pipeline(Readable.from([Buffer.from(body)]), writer.writable());
    await writer.sync();
    await writer.commit();
    await stores.queue.commit({
      messages: [{
        id, tenantId: null, tenant: null, connector: null, attribution: 'ip', directionality: 'Originating', mailFrom: 'app@contoso.test',
        envId: null, ret: null, bodyType: null, smtputf8: false, size: Buffer.byteLength(body), clientIp: '127.0.0.1', clientHelo: 'app.test',
        tls: null, headerFrom: 'app@contoso.test', subject: id, messageIdHeader: null, receivedAt: at,
        recipients: [{ address: `u${i}@remote.test`, domain: 'remote.test', notify: null, orcpt: null, state: 'queued', lastReply: null, dsnStatus: null, verdict: 'internal' }],
      }],
      decisions: [],
    });
    ids.push(id);
  }
  return ids;
}

async function receiver(behaviour: ConstructorParameters<typeof SmtpReceiver>[0] = {}): Promise<SmtpReceiver> {
  const r = new SmtpReceiver(behaviour);
  await r.start();
  cleanups.push(() => r.stop());
  return r;
}

test('three nodes on one database never have more connections open to a destination than its cluster-wide concurrency', async () => {
  const url = await freshSchema(await database);
  // Each message is answered a little later, so connections stay open long enough to overlap.
  const remote = await receiver({ data: () => ({ later: new Promise((resolve) => setTimeout(() => resolve('accept'), 25)) }) });
  const CONCURRENCY = 2;
  const nodes = await Promise.all(['node-1', 'node-2', 'node-3'].map((id) => node(url, id, remote.port, { perDestinationConcurrency: CONCURRENCY })));
  const ids = await enqueue(nodes[0]!.stores, 60, Date.now());
  await Promise.all(nodes.map((n) => n.service.start()));
  await waitFor(() => remote.messages.length >= ids.length, { message: () => `all ${ids.length} messages delivered (${remote.messages.length} so far)`, timeoutMs: 90_000 });
  await Promise.all(nodes.map((n) => n.service.stop()));
  const subjects = remote.messages.map((m) => /^Subject: (\S+)/m.exec(m.body.toString('utf8'))?.[1]);
  assert.deepEqual([...subjects].sort(), [...ids].sort(), 'every message arrived once');
  assert.ok(remote.peakConnections >= 1);
  assert.ok(remote.peakConnections <= CONCURRENCY, `at most ${CONCURRENCY} connections at once to the destination, from all nodes; the receiver saw ${remote.peakConnections}`);
  const helos = new Set(remote.messages.map((m) => m.helo));
  assert.ok(helos.size >= 2, `the nodes shared the work (${[...helos].join(', ')})`);
  assert.deepEqual(await rowsOf(url, 'destination_slots'), [], 'every node gave its slots back when it was done');
});

test("three nodes together send a destination no more messages per minute than its rate, and the rest wait for the window's end", async () => {
  const url = await freshSchema(await database);
  const remote = await receiver();
  const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
  const clock = new ManualClock(new Date(T0 + 10_000));
  const nodes = await Promise.all(['node-1', 'node-2', 'node-3'].map((id) => node(url, id, remote.port, { perDestinationPerMinute: 5 }, clock)));
  await enqueue(nodes[0]!.stores, 12, T0);
  for (let round = 0; round < 2; round++) for (const n of nodes) await n.service.runOnce();
  assert.equal(remote.messages.length, 5, 'five in the first minute, from all three nodes together');
  const waiting = (await nodes[0]!.stores.queueAdmin.select({}, { limit: 100 })).flatMap((e) => e.recipients).filter((r) => r.state === 'queued');
  assert.equal(waiting.length, 7);
  assert.deepEqual(new Set(waiting.map((r) => [r.attempts, r.nextAttemptAt, r.lastReply].join(' '))), new Set([`0 ${T0 + 60_000} throttled: rate limit of 5 messages per minute to 127.0.0.1 reached`]));
  clock.set(new Date(T0 + 60_000));
  for (const n of nodes) await n.service.runOnce();
  assert.equal(remote.messages.length, 10, 'five more in the next minute');
});

/** The rows of a table of the shared database. */
async function rowsOf(url: string, table: 'destination_slots'): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`SELECT * FROM ${table}`)).rows;
  } finally {
    await client.end();
  }
}
