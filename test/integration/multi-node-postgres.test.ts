/**
 * Three `relaygate serve` nodes on one PostgreSQL database, as behind a load balancer: clients
 * spread their messages over the nodes, every node delivers to one receiving server on loopback.
 *
 * 1. One node is killed with SIGKILL in the middle of delivering and started again later: every
 *    message a client got a 250 for arrives, exactly once, or at most twice for the recipients the
 *    killed node had in flight at that instant; none is missing.
 * 2. One node is paused with SIGSTOP while the receiver holds its transactions, past its lease; the
 *    other nodes take its recipients over and deliver them; then the receiver refuses the paused
 *    node's transactions (550) and the node is let go with SIGCONT: it cannot record its failure
 *    over the other nodes' deliveries, and no bounce is queued. (Each message also has a recipient
 *    that is always deferred, so the message and its delivered recipient stay in the queue, where a
 *    late outcome could overwrite them.)
 *
 * RELAYGATE_MULTINODE_MESSAGES sets the load of the first test (600 by default, to keep CI short).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { testDatabase } from '../support/postgres.js';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver, type Refusal } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';

const MESSAGES = Number(process.env.RELAYGATE_MULTINODE_MESSAGES ?? 600);
const SESSIONS_PER_NODE = 2;
const NODES = [1, 2, 3] as const;
const LEASE = '3s';

let dir: string;
let url: string;
let db: pg.Client;
let receiver: SmtpReceiver;
const nodes = new Map<number, ServeProcess>();

/** A slow receiver: each transaction is answered after a few milliseconds, so deliveries are in flight at any time. */
const slowly = (): { later: Promise<'accept'> } => ({ later: sleep(15).then(() => 'accept' as const) });

function configFor(node: number, sink: number): string {
  return `hostname: relay${node}.test
nodeId: node-${node}
dataDir: ./data${node}
store: "${url}"
postgres: { poolSize: 4, idleInTransactionTimeout: 10s }
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery:
  leaseTime: ${LEASE}
  pollInterval: 200ms
  dns: { servers: ["127.0.0.1:9"], timeout: 1s }
  routes:
    - { domains: [external.example, deferred.example], host: "127.0.0.1:${sink}", tls: none }
`;
}

async function start(node: number): Promise<ServeProcess> {
  const serve = await startServe(['--config', `node${node}.yaml`], dir, ['plain']);
  nodes.set(node, serve);
  return serve;
}

before(async () => {
  url = await testDatabase('multinode');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  dir = mkdtempSync(join(tmpdir(), 'relaygate-multinode-'));
  // deferred.example's recipients are always deferred: a message with one stays in the queue.
  receiver = new SmtpReceiver({
    rcpt: (to) => (to.endsWith('@deferred.example') ? { code: 451, text: '4.2.0 try again later' } : 'accept'),
    data: () => slowly(),
  });
  const sink = await receiver.start();
  for (const n of NODES) writeFileSync(join(dir, `node${n}.yaml`), configFor(n, sink));
  writeFileSync(
    join(dir, 'tenants.yaml'),
    `tenants:
  - name: load
    acceptedDomains: [{ domain: load.example }]
    inboundConnectors:
      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }
`,
  );
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'node1.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  await Promise.all(NODES.map(start));
});

after(async () => {
  for (const serve of nodes.values()) {
    serve.child.kill('SIGCONT');
    await serve.stop();
  }
  await db?.end();
  await receiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Sends messages `first..first+count-1`, one recipient `<prefix><i>@external.example` each, over
 * `sessions` sessions spread over the live nodes; a session whose node dies goes on at the next
 * node, as a client behind a load balancer would. Returns recipient → queue id for every 250.
 */
async function send(prefix: string, count: number, sessions: number, to: () => number[], alsoTo?: (i: number) => string): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    let client: RawSmtpClient | null = null;
    for (let attempt = 0; next < count && attempt < 50; ) {
      try {
        if (!client) {
          const live = to();
          const node = live[(w + attempt) % live.length]!;
          client = await RawSmtpClient.connect({ host: '127.0.0.1', port: nodes.get(node)!.ports.get('plain')!, waitMs: 30_000 });
          assert.match(await client.read(), /^220 /);
          assert.match(await client.command('EHLO client.test'), /^250/);
        }
        const i = next++;
        const rcpt = `${prefix}${i}@external.example`;
        assert.equal(await client.command('MAIL FROM:<app@load.example>'), '250 2.1.0 Sender OK');
        assert.equal(await client.command(`RCPT TO:<${rcpt}>`), '250 2.1.5 Recipient OK');
        if (alsoTo) assert.equal(await client.command(`RCPT TO:<${alsoTo(i)}>`), '250 2.1.5 Recipient OK');
        assert.match(await client.command('DATA'), /^354 /);
        const reply = await client.command(`Subject: ${prefix}${i}\r\n\r\nmessage ${i}\r\n.`);
        const id = /^250 2\.0\.0 OK <([0-9a-z]+)>$/.exec(reply);
        if (id) acked.set(rcpt, id[1]!);
      } catch {
        // The node went away mid-session: whatever had no 250 was not accepted; go on elsewhere.
        client = null;
        attempt++;
      }
    }
    if (client && !client.isClosed) await client.command('QUIT').catch(() => undefined);
  };
  await Promise.all(Array.from({ length: sessions }, (_, w) => worker(w)));
  return acked;
}

function arrivals(prefix: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of receiver.messages) {
    for (const r of m.recipients) if (r.address.startsWith(prefix)) out.set(r.address, [...(out.get(r.address) ?? []), m.helo]);
  }
  return out;
}

async function queueEmpties(): Promise<void> {
  let left = -1;
  await waitFor(
    async () => {
      left = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages WHERE kind = 'mail'")).rows[0]!.n;
      return left === 0;
    },
    { message: () => `the queue to empty (${left} messages left)`, timeoutMs: 60_000, intervalMs: 250 },
  );
}

test(`three nodes share ${MESSAGES} messages; one SIGKILLed mid-delivery and restarted: none is lost, only in-flight ones may come twice`, async () => {
  const live = new Set<number>(NODES);
  const sending = send('k', MESSAGES, SESSIONS_PER_NODE * NODES.length, () => [...live]);
  await waitFor(() => receiver.messages.length >= MESSAGES / 4, {
    message: () => `a quarter of the messages delivered before the kill (${receiver.messages.length})`,
    timeoutMs: 120_000,
    intervalMs: 20,
  });
  // Node 1 is killed while it waits for the receiver's reply to its transactions: the receiver
  // holds them, and takes them (as a server that has the message but whose 250 is never read) once
  // node 1 is dead. Those can then arrive twice: the window the kill leaves open.
  const held: Array<() => void> = [];
  receiver.behaviour.data = (msg) =>
    msg.helo === 'relay1.test' ? { later: new Promise<'accept'>((take) => held.push(() => take('accept'))) } : slowly();
  await waitFor(() => held.length > 0, { message: 'node 1 to have a transaction at the receiver', timeoutMs: 60_000, intervalMs: 5 });
  live.delete(1);
  nodes.get(1)!.child.kill('SIGKILL');
  await nodes.get(1)!.stop();
  // What node 1 had in flight when it died: these may have reached the receiver without being recorded.
  const inFlight = new Set(
    (await db.query<{ address: string }>("SELECT address FROM recipients WHERE state = 'inflight' AND lease_owner = 'node-1'")).rows.map((r) => r.address),
  );
  for (const take of held.splice(0)) take();
  receiver.behaviour.data = () => slowly();
  const acked = await sending;
  await start(1);
  live.add(1);
  await waitFor(
    () => [...acked.keys()].every((rcpt) => arrivals('k').has(rcpt)),
    { message: () => `every acknowledged message at the receiver (${[...acked.keys()].filter((r) => !arrivals('k').has(r)).length} missing)`, timeoutMs: 120_000, intervalMs: 250 },
  );
  await queueEmpties();
  const got = arrivals('k');
  const missing = [...acked.keys()].filter((rcpt) => !got.has(rcpt));
  const twice = [...got].filter(([, helos]) => helos.length > 1);
  assert.ok(acked.size >= MESSAGES * 0.9, `most messages were acknowledged (${acked.size} of ${MESSAGES})`);
  assert.deepEqual(missing, [], 'every acknowledged message arrived');
  assert.deepEqual(twice.filter(([rcpt, helos]) => !inFlight.has(rcpt) || helos.length > 2), [], 'only what node 1 had in flight came twice, and at most twice');
  assert.ok(inFlight.size > 0, 'node 1 was killed in the middle of delivering');
  assert.ok(twice.length > 0, 'what node 1 delivered without recording it was delivered again by another node');
  const byNode = new Map<string, number>();
  for (const helos of got.values()) for (const h of helos) byNode.set(h, (byNode.get(h) ?? 0) + 1);
  for (const n of NODES) assert.ok((byNode.get(`relay${n}.test`) ?? 0) > 0, `node ${n} delivered some (${JSON.stringify([...byNode])})`);
});

test('a node paused past its lease cannot record over the deliveries of the nodes that took its work over', async () => {
  const held: Array<{ rcpt: string; answer: (a: 'accept' | Refusal) => void }> = [];
  receiver.behaviour.data = (msg) => {
    if (msg.helo !== 'relay2.test') return slowly();
    return {
      later: new Promise<'accept' | Refusal>((answer) => {
        for (const r of msg.recipients) held.push({ rcpt: r.address, answer });
      }),
    };
  };
  const acked = await send('p', 30, 2, () => [2], (i) => `later${i}@deferred.example`);
  assert.equal(acked.size, 30);
  await waitFor(() => held.length > 0, { message: 'node 2 to have a transaction held at the receiver', timeoutMs: 30_000, intervalMs: 10 });
  const paused = nodes.get(2)!;
  paused.child.kill('SIGSTOP');
  const heldAtPause = held.map((h) => h.rcpt);
  const stderrBefore = paused.stderr().length;
  // Past the lease, the other nodes claim what node 2 held and deliver it.
  await waitFor(
    () => heldAtPause.every((rcpt) => (arrivals('p').get(rcpt) ?? []).some((helo) => helo !== 'relay2.test')),
    { message: () => `the other nodes to deliver what node 2 held (${heldAtPause.join(', ')})`, timeoutMs: 60_000, intervalMs: 100 },
  );
  // The receiver now refuses node 2's transactions, and node 2 wakes up to record that failure.
  for (const h of held.splice(0)) h.answer({ code: 550, text: '5.1.1 refused after the pause' });
  receiver.behaviour.data = () => slowly();
  paused.child.kill('SIGCONT');
  await waitFor(() => /outcomes not recorded: their lease had passed to another scheduler/.test(paused.stderr().slice(stderrBefore)), {
    message: () => `node 2 to report its refused outcomes (it said: ${paused.stderr().slice(stderrBefore).slice(-2000)})`,
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  await waitFor(() => [...acked.keys()].every((rcpt) => arrivals('p').has(rcpt)), { message: 'all 30 messages delivered', timeoutMs: 60_000, intervalMs: 100 });
  const { rows } = await db.query<{ address: string; state: string; dsn_status: string | null }>(
    "SELECT address, state, dsn_status FROM recipients WHERE address = ANY($1::text[]) ORDER BY address",
    [heldAtPause],
  );
  assert.deepEqual(rows.map((r) => [r.address, r.state, r.dsn_status]), [...heldAtPause].sort().map((a) => [a, 'delivered', null]), 'the deliveries stand');
  const dsns = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages WHERE kind = 'dsn'")).rows[0]!.n;
  assert.equal(dsns, 0, 'no bounce was queued for the refused transactions');
  const refused = Number(/(\d+) outcomes not recorded/.exec(paused.stderr().slice(stderrBefore))![1]);
  assert.ok(refused >= heldAtPause.length, `node 2's ${heldAtPause.length} held outcomes were refused (${refused})`);
});
