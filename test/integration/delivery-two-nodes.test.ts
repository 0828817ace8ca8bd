/**
 * Two `relaygate serve` processes with different node ids on one data directory, as several
 * processes (or, with PostgreSQL, several machines) share one queue. The first delivers to a
 * destination that never answers its DATA; the second starts meanwhile and must not take the
 * first's live leases (the old start put every in-flight recipient back in the queue), the first
 * renews them while it waits, and once it is killed -9 its leases run out and the second delivers
 * what was left. Every recipient reaches the destination exactly once.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStores, type Stores } from '../../src/app/stores.js';
import type { QueueEntry } from '../../src/store/ports.js';
import { runRelaygate, spawnRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { waitFor } from '../support/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'relaygate-two-nodes-'));
// Node a's transactions are held at the end of DATA for as long as it lives; node b's go through.
const receiver = new SmtpReceiver({ data: (m) => (m.helo === 'node-a.test' ? 'stall' : 'accept') });
const serves: ServeProcess[] = [];
let stores: Stores | undefined;

after(async () => {
  for (const s of serves) await s.stop('SIGKILL');
  await stores?.close();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(node: string, port: number): string {
  const file = `${node}.yaml`;
  writeFileSync(
    join(dir, file),
    `hostname: ${node}.test
nodeId: ${node}
dataDir: ./data
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery:
  leaseTime: 2s
  pollInterval: 100ms
  retry: [1s]
  routes:
    - { domains: ["remote.test"], host: "127.0.0.1:${port}", tls: none }
`,
  );
  return file;
}

/** Relays one message from contoso's application address (127.0.0.1) through the serve's plain listener. */
async function relay(serve: ServeProcess, to: string[]): Promise<string> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve.ports.get('plain')! });
  try {
    await c.read();
    await c.command('EHLO app.contoso.example');
    assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
    for (const r of to) assert.equal(await c.command(`RCPT TO:<${r}>`), '250 2.1.5 Recipient OK');
    await c.command('DATA');
    c.write(`From: app@contoso.example\r\nSubject: to ${to.join(' ')}\r\n\r\nhello\r\n.\r\n`);
    const id = /^250 2\.0\.0 OK <(\w{20})>$/.exec(await c.read())?.[1];
    assert.ok(id);
    return id;
  } finally {
    c.close();
  }
}

const deliveredTo = (helo: string): string[] => receiver.messages.filter((m) => m.helo === helo).flatMap((m) => m.recipients.map((r) => r.address));

async function entry(id: string): Promise<QueueEntry | undefined> {
  return (await stores!.queueAdmin.select({ ids: [id] }, { limit: 1 }))[0];
}

test('a second serve on the data directory leaves the first one\'s live leases alone; when the first dies, the second delivers what it left, each recipient once', async () => {
  const port = await receiver.start('127.0.0.1');
  const a = config('node-a', port);
  const b = config('node-b', port);
  writeFileSync(join(dir, 'tenants.yaml'), testDirectoryYaml);
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', a], dir);
  assert.equal(applied.code, 0, applied.stderr);

  const first = await startServe(['--config', a], dir, ['plain']);
  serves.push(first);
  const held = ['u1@remote.test', 'u2@remote.test', 'u3@remote.test'];
  const heldId = await relay(first, held);
  stores = await openStores({ dataDir: join(dir, 'data'), store: 'sqlite' });
  // Node a has claimed them and sent the message; the destination sits on its DATA.
  const leased = await waitFor(
    async () => {
      const e = await entry(heldId);
      return receiver.attempts.length > 0 && e?.recipients.every((r) => r.lease?.owner === 'node-a') && e;
    },
    { message: 'node a holds the leases of the three recipients and is in its transaction' },
  );
  const firstLeaseEnds = Math.max(...leased.recipients.map((r) => r.lease!.until));

  // The same node id cannot run twice: that one would release the first's live leases at its start.
  const twin = await spawnRelaygate(['serve', '--config', a], dir);
  assert.equal(twin.code, 2);
  assert.equal(
    twin.stderr,
    `relaygate: cannot start: another relaygate serve (pid ${first.child.pid}) runs as node node-a on ${join(dir, 'data')}; give each serve on a data directory its own nodeId\n`,
  );

  const second = await startServe(['--config', b], dir, ['plain']);
  serves.push(second);
  // Node b runs passes (it delivers mail of its own) while node a still waits on the destination.
  await relay(second, ['v1@remote.test']);
  await waitFor(() => deliveredTo('node-b.test').includes('v1@remote.test'), { message: 'node b delivered v1' });
  assert.deepEqual((await entry(heldId))?.recipients.map((r) => [r.address, r.state, r.lease?.owner]), held.map((r) => [r, 'inflight', 'node-a']));

  // Past the end of node a's first lease: it renewed, so node b still does not take them.
  await waitFor(() => Date.now() > firstLeaseEnds + 200, { message: "the end of node a's first lease is past" });
  await relay(second, ['v2@remote.test']);
  await waitFor(() => deliveredTo('node-b.test').includes('v2@remote.test'), { message: 'node b delivered v2, a pass after that' });
  const renewed = await entry(heldId);
  assert.deepEqual(renewed?.recipients.map((r) => [r.state, r.lease?.owner]), held.map(() => ['inflight', 'node-a']));
  assert.ok(renewed!.recipients.every((r) => r.lease!.until > firstLeaseEnds), 'node a renewed its leases');
  assert.deepEqual(deliveredTo('node-b.test'), ['v1@remote.test', 'v2@remote.test'], 'node b delivered none of node a\'s recipients');

  // Node a dies mid-transaction: nothing of it was recorded, and its leases are no longer renewed.
  first.child.kill('SIGKILL');
  await first.stop();
  await waitFor(() => held.every((r) => deliveredTo('node-b.test').includes(r)), {
    message: () => `node b delivered what node a left (so far: ${deliveredTo('node-b.test').join(', ')})`,
    timeoutMs: 20_000,
  });
  await waitFor(async () => (await stores!.queueAdmin.select({}, { limit: 10 })).length === 0, { message: 'the queue is empty' });
  const all = receiver.messages.flatMap((m) => m.recipients.map((r) => r.address)).sort();
  assert.deepEqual(all, [...held, 'v1@remote.test', 'v2@remote.test'].sort(), 'every recipient exactly once');
  assert.deepEqual(deliveredTo('node-a.test'), [], 'the transactions of node a never completed');
});
