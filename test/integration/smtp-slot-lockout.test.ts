/**
 * The drip attack: strangers open as many connections as the limits let them and keep each one
 * alive by sending a byte every quarter second, in a command or in a message's data, while a
 * tenant's application (127.0.0.1, contoso's connector range) sends mail. Limits are scaled down:
 * 40 connections, 20 % of them reserved for sources in connector ranges, 12 strangers per /24.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { waitFor } from '../support/wait-for.js';

const GREETING = '220 relay.test ESMTP relaygate';
const FULL = '421 4.7.0 Too many connections, try again later';
const FULL_FOR_IP = '421 4.7.0 Too many connections from your address, try again later';
const FULL_FOR_NETWORK = '421 4.7.0 Too many connections from your network, try again later';
const COMMAND_TIMEOUT = '421 4.4.2 Command timeout, closing connection';
const DATA_TIMEOUT = '421 4.4.2 Message data timeout, closing connection';

const maxConnections = 40;
const unattributedShare = 32; // 40 less the reserved 20 %

let h: Harness;
before(async () => {
  h = await startHarness({
    directory: testDirectoryYaml,
    limits: {
      maxConnections,
      maxConnectionsPerIp: 10,
      maxConnectionsPerNetwork: 12,
      reservedShare: 0.2,
      pressureThreshold: 0.7,
      // The idle timer alone would never fire: every byte restarts it.
      commandTimeout: 30_000,
      commandDeadline: 20_000,
      dataDeadline: 20_000,
      pressureCommandTimeout: 1_000,
      pressureDataTimeout: 1_000,
    },
  });
});
after(async () => {
  await h.stop();
});

async function open(localAddress: string): Promise<{ client: RawSmtpClient; first: string }> {
  const client = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress, waitMs: 30_000 });
  return { client, first: await client.read() };
}

/** Waits (bounded) until the server holds nothing for any connection. */
async function drained(): Promise<void> {
  await waitFor(() => h.relay.server.openConnections === 0, { message: () => `no open connection (${h.relay.server.openConnections} open)`, timeoutMs: 20_000, intervalMs: 50 });
  assert.deepEqual(h.relay.server.tracked, {
    open: 0,
    unattributed: 0,
    addresses: 0,
    networks: 0,
    sessions: 0,
    relaxedDeadlines: 0,
    smtpConnections: 0,
  });
}

/** One byte every 250 ms until the server closes the connection (at most 240 bytes, one minute). */
function drip(c: RawSmtpClient, byte: string): () => void {
  let sent = 0;
  const timer = setInterval(() => {
    if (c.isClosed || ++sent > 240) return clearInterval(timer);
    c.write(byte);
  }, 250);
  return () => clearInterval(timer);
}

/** A drip-fed session: the reply that ends it (read before the server's close), and its phase. */
interface Attacker {
  client: RawSmtpClient;
  phase: 'command' | 'data';
  stop: () => void;
}

async function commandDripper(localAddress: string): Promise<Attacker | string> {
  const { client, first } = await open(localAddress);
  if (first !== GREETING) return first;
  client.write('EHLO ');
  return { client, phase: 'command', stop: drip(client, 'a') };
}

async function dataDripper(localAddress: string): Promise<Attacker> {
  const { client, first } = await open(localAddress);
  assert.equal(first, GREETING);
  await client.command('EHLO stranger.example');
  assert.equal(await client.command('MAIL FROM:<x@stranger.example>'), '250 2.1.0 Sender OK');
  assert.equal(await client.command('RCPT TO:<someone@contoso.example>'), '250 2.1.5 Recipient OK');
  assert.equal(await client.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  client.write('Subject: slow\r\n\r\n');
  return { client, phase: 'data', stop: drip(client, 'x') };
}

async function tenantSendsMail(n: number): Promise<string> {
  const { client: c, first } = await open('127.0.0.1');
  try {
    assert.equal(first, GREETING, `the tenant's connection ${n} is served`);
    await c.command('EHLO app.contoso.example');
    assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '250 2.1.5 Recipient OK');
    assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    c.write(`From: <app@contoso.example>\r\nSubject: during the attack ${n}\r\n\r\nbody\r\n.\r\n`);
    const accepted = await c.read();
    const id = /^250 2\.0\.0 OK <([0-9a-z]{20})>$/.exec(accepted)?.[1];
    assert.ok(id, accepted);
    assert.equal(await c.command('QUIT'), '221 2.0.0 Bye');
    return id;
  } finally {
    c.close();
  }
}

test('strangers of one /24 get at most maxConnectionsPerNetwork slots; sources in connector ranges are not counted', async () => {
  await drained();
  const held: RawSmtpClient[] = [];
  try {
    // 127.0.0.4, .6, .8 and .9 are in no connector's range; .1 (contoso) and .2 (oldco) are.
    for (const ip of ['127.0.0.4', '127.0.0.6', '127.0.0.8', '127.0.0.9']) {
      for (let i = 0; i < 3; i++) {
        const { client, first } = await open(ip);
        held.push(client);
        assert.equal(first, GREETING);
      }
    }
    const refused = await open('127.0.0.10');
    assert.equal(refused.first, FULL_FOR_NETWORK);
    assert.equal(await refused.client.closed(), '');
    for (const ip of ['127.0.0.1', '127.0.0.2', '127.0.1.4']) {
      const { client, first } = await open(ip);
      held.push(client);
      assert.equal(first, GREETING, `${ip} is admitted`);
    }
  } finally {
    for (const c of held) c.close();
  }
  await drained();
});

test('a drip attack from several networks never locks the tenant out, and every drip-fed session is cut', async () => {
  await drained();
  const networkA = ['127.0.10.2', '127.0.10.3', '127.0.10.4', '127.0.10.5'];
  const others = ['127.0.11.2', '127.0.12.2', '127.0.13.2'];
  const sources = [...networkA, ...others];
  const attackers: Attacker[] = [];
  const refusals: string[] = [];
  const queued: string[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      // Below the pressure threshold these reach their DATA phase on the normal deadlines.
      for (const ip of others) attackers.push(await dataDripper(ip));
      const attempts = await Promise.all(Array.from({ length: 45 }, (_, i) => commandDripper(sources[i % sources.length]!)));
      for (const a of attempts) {
        if (typeof a === 'string') refusals.push(a);
        else attackers.push(a);
      }
      const server = h.relay.server.tracked;
      assert.ok(server.unattributed <= unattributedShare, `strangers hold ${server.unattributed} of ${maxConnections}`);
      for (let i = 0; i < 3; i++) queued.push(await tenantSendsMail(round * 3 + i));
      // Every drip-fed session of the round ends with the deadline reply of its phase.
      const ends = await Promise.all(
        attackers.splice(0).map(async (a) => {
          const reply = await a.client.read().catch((err: unknown) => `no reply: ${String(err)}`);
          await a.client.closed();
          a.stop();
          return { phase: a.phase, reply };
        }),
      );
      for (const e of ends) assert.equal(e.reply, e.phase === 'data' ? DATA_TIMEOUT : COMMAND_TIMEOUT);
      assert.ok(ends.some((e) => e.phase === 'data'));
      assert.ok(ends.filter((e) => e.phase === 'command').length >= 20, `${ends.length} sessions`);
      await drained();
    }
  } finally {
    for (const a of attackers) {
      a.stop();
      a.client.close();
    }
  }
  for (const r of refusals) assert.ok([FULL, FULL_FOR_IP, FULL_FOR_NETWORK].includes(r), r);
  assert.ok(refusals.length > 0, 'the attack asked for more than the limits give strangers');
  const entries = await h.queued();
  const ids = new Set(entries.map((e) => e.message.id));
  for (const id of queued) assert.ok(ids.has(id), `message ${id} is queued`);
  assert.equal(entries.filter((e) => e.message.subject === 'slow').length, 0, 'no drip-fed message was accepted');
});

test('behind a trusted proxy the client address from the PROXY header decides: the reserve for a tenant, the caps for a stranger', async () => {
  // No pressure here (threshold 1): the strangers hold their share until the test closes them.
  const p = await startHarness({
    directory: testDirectoryYaml,
    proxyTrusted: ['127.0.0.20/32'],
    limits: { maxConnections: 10, maxConnectionsPerIp: 10, maxConnectionsPerNetwork: 4, reservedShare: 0.2, pressureThreshold: 1 },
  });
  const held: RawSmtpClient[] = [];
  const via = async (client: string): Promise<string> => {
    const c = await RawSmtpClient.connect({
      host: '127.0.0.1',
      port: p.port('smtp'),
      localAddress: '127.0.0.20',
      preamble: Buffer.from(`PROXY TCP4 ${client} 127.0.0.1 40000 25\r\n`),
    });
    held.push(c);
    return c.read();
  };
  try {
    // The proxy's clients from 127.0.40.0/24 meet that network's cap, not the proxy's.
    for (let i = 2; i < 6; i++) assert.equal(await via(`127.0.40.${i}`), GREETING);
    assert.equal(await via('127.0.40.9'), FULL_FOR_NETWORK);
    // Four more strangers fill the strangers' share (8 of 10).
    for (let i = 2; i < 6; i++) assert.equal(await via(`127.0.${41 + i}.1`), GREETING);
    assert.equal(await via('127.0.50.1'), FULL);
    // contoso's application behind the proxy takes a reserved slot, as does oldco's scanner directly.
    assert.equal(await via('127.0.0.1'), GREETING);
    const direct = await RawSmtpClient.connect({ host: '127.0.0.1', port: p.port('smtp'), localAddress: '127.0.0.2' });
    held.push(direct);
    assert.equal(await direct.read(), GREETING);
    assert.equal(await via('127.0.0.1'), FULL, 'the server is full');
    assert.deepEqual({ ...p.relay.server.tracked }, { open: 10, unattributed: 8, addresses: 10, networks: 5, sessions: 10, relaxedDeadlines: 8, smtpConnections: 10 });
  } finally {
    for (const c of held) c.close();
    for (let i = 0; i < 400 && p.relay.server.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const left = p.relay.server.tracked;
    await p.stop();
    assert.deepEqual(left, { open: 0, unattributed: 0, addresses: 0, networks: 0, sessions: 0, relaxedDeadlines: 0, smtpConnections: 0 });
  }
});
