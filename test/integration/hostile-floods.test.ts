/**
 * Connection floods and slow TLS handshakes, scaled down: 40 connections, 20 % reserved for sources
 * in connector ranges, 12 strangers per /24, 10 per address, a 1.5 s handshake time. Every flood is
 * bounded in count, every wait in time; afterwards the server holds nothing for any connection.
 *
 * The drip attack (a byte now and then in a command or in DATA, the deadlines and the pressure
 * timeouts) is smtp-slot-lockout.test.ts and is not repeated; a trusted PROXY peer that goes
 * silent or drips its header is in hostile-proxy-starttls.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { waitFor } from '../support/wait-for.js';

const GREETING = '220 relay.test ESMTP relaygate';
const REFUSALS = new Set([
  '421 4.7.0 Too many connections, try again later',
  '421 4.7.0 Too many connections from your address, try again later',
  '421 4.7.0 Too many connections from your network, try again later',
]);
const STRANGERS_SHARE = 32; // 40 less the reserved 20 %

let h: Harness;
let pki: TestPki;
before(async () => {
  pki = createTestPki();
  h = await startHarness({
    directory: testDirectoryYaml,
    pki,
    proxyTrusted: ['127.0.0.9/32'],
    listeners: [
      { name: 'smtp', host: '127.0.0.1', port: 0, tls: 'none' },
      { name: 'submission', host: '127.0.0.1', port: 0, tls: 'starttls' },
      { name: 'smtps', host: '127.0.0.1', port: 0, tls: 'implicit' },
    ],
    limits: {
      maxConnections: 40,
      maxConnectionsPerIp: 10,
      maxConnectionsPerNetwork: 12,
      reservedShare: 0.2,
      // No pressure timeouts here: the flood is meant to hold its slots while the tenant sends.
      pressureThreshold: 1,
      commandTimeout: 1500,
      commandDeadline: 30_000,
    },
  });
});
after(async () => {
  await h?.stop();
  pki?.cleanup();
});

async function drained(): Promise<void> {
  await waitFor(() => h.relay.server.openConnections === 0, { message: () => `no open connection (${h.relay.server.openConnections} open)`, timeoutMs: 15_000 });
  assert.deepEqual(h.relay.server.tracked, { open: 0, unattributed: 0, addresses: 0, networks: 0, sessions: 0, relaxedDeadlines: 0, smtpConnections: 0 });
}

function messagesFrom(ip: string): number {
  return (h.db.prepare('SELECT count(*) AS n FROM messages WHERE client_ip = ?').get(ip) as { n: number }).n;
}

function smtpSource(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('/usr/sbin/smtp-source', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

test("a flood of strangers takes at most their share; the tenant's smtp-source run during it is served in full", async () => {
  // 4 networks × 3 addresses × 10 connections = 120 attempts, all held open.
  const sources = [20, 21, 22, 23].flatMap((net) => [2, 3, 4].map((host) => `127.0.${net}.${host}`));
  const flood = await Promise.all(
    sources.flatMap((ip) =>
      Array.from({ length: 10 }, async () => {
        const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: ip, waitMs: 20_000 });
        return { c, first: await c.read().catch((err: Error) => err.message) };
      }),
    ),
  );
  try {
    const admitted = flood.filter((f) => f.first === GREETING).length;
    const refused = flood.filter((f) => REFUSALS.has(f.first)).length;
    assert.equal(admitted, STRANGERS_SHARE);
    assert.equal(refused, flood.length - STRANGERS_SHARE, `every other attempt got an exact refusal: ${[...new Set(flood.map((f) => f.first))].join(' | ')}`);
    const before = messagesFrom('127.0.0.1');
    const run = await smtpSource(['-s', '5', '-m', '20', '-l', '200', '-M', 'app.contoso.example', '-f', 'app@contoso.example', '-t', 'someone@elsewhere.example', `127.0.0.1:${h.port('smtp')}`]);
    assert.equal(run.code, 0, run.output);
    assert.equal(messagesFrom('127.0.0.1') - before, 20);
    console.log(`connection flood: ${admitted} of ${flood.length} strangers' connections admitted (their share is ${STRANGERS_SHARE}); the tenant's 20 messages over 5 sessions all accepted`);
  } finally {
    for (const f of flood) f.c.close();
  }
  await drained();
});

test('connect-and-reset churn leaks no slot: before the greeting, after it, mid-command, and a trusted proxy that never sends its header', async () => {
  const port = h.port('smtp');
  const churn = async (i: number): Promise<void> => {
    const ip = `127.0.${30 + (i % 4)}.${2 + (i % 5)}`;
    const mode = i % 4;
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: mode === 3 ? '127.0.0.9' : ip }, () => {
        if (mode === 0 || mode === 3) s.resetAndDestroy();
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
      s.on('data', (d: Buffer) => {
        if (mode === 1) s.resetAndDestroy();
        else if (mode === 2 && d.toString('latin1').startsWith('220')) {
          s.write('EHLO half-a-comm');
          setImmediate(() => s.resetAndDestroy());
        }
      });
    });
  };
  for (let batch = 0; batch < 5; batch++) await Promise.all(Array.from({ length: 60 }, (_, i) => churn(batch * 60 + i)));
  await drained();
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
  assert.equal(await c.read(), GREETING);
  c.close();
  await drained();
});

/** The first bytes a TLS client sends (its ClientHello), captured from a real handshake attempt. */
async function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const capture = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        capture.close();
      });
    });
    capture.listen(0, '127.0.0.1', () => {
      const t = tls.connect({ host: '127.0.0.1', port: (capture.address() as net.AddressInfo).port, rejectUnauthorized: false });
      t.on('error', () => undefined);
    });
  });
}

/** Sends `bytes` one byte every `everyMs` until the server closes; resolves with what the server sent and how many bytes went out. */
function dripUntilClosed(s: net.Socket, bytes: Buffer, everyMs: number, received: Buffer[] = []): Promise<{ received: string; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < bytes.length && !s.destroyed) s.write(bytes.subarray(sent, ++sent));
    }, everyMs);
    s.on('data', (d: Buffer) => received.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ received: Buffer.concat(received).toString('latin1'), sent });
    });
  });
}

test('slow TLS handshakes are cut at the handshake time: silent or dripped, implicit TLS or after STARTTLS', async () => {
  const hello = await clientHello();
  const connect = (port: number) =>
    new Promise<net.Socket>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.4' }, () => resolve(s));
      s.setNoDelay(true);
    });
  // Implicit TLS: nothing, or the ClientHello a byte every 50 ms (it would take ~17 s).
  const silent = dripUntilClosed(await connect(h.port('smtps')), Buffer.alloc(0), 50);
  const dripped = dripUntilClosed(await connect(h.port('smtps')), hello, 50);
  // STARTTLS: the 220, then nothing, or the ClientHello a byte every 50 ms.
  const afterStartTls = async (bytes: Buffer) => {
    const s = await connect(h.port('submission'));
    const received: Buffer[] = [];
    const seen = () => Buffer.concat(received).toString('latin1');
    s.on('data', (d: Buffer) => received.push(d));
    await waitFor(() => seen().startsWith(GREETING), { message: () => `the greeting (${JSON.stringify(seen())})` });
    s.write('EHLO slow.example\r\n');
    await waitFor(() => /\r\n250 /.test(seen()), { message: () => `the EHLO reply (${JSON.stringify(seen())})` });
    s.write('STARTTLS\r\n');
    await waitFor(() => seen().endsWith('220 2.0.0 Ready to start TLS\r\n'), { message: () => `the STARTTLS reply (${JSON.stringify(seen())})` });
    s.removeAllListeners('data');
    const result = await dripUntilClosed(s, bytes, 50);
    return { received: result.received, sent: result.sent };
  };
  const [a, b, c, d] = await Promise.all([silent, dripped, afterStartTls(Buffer.alloc(0)), afterStartTls(hello)]);
  assert.equal(a.received, '', 'implicit TLS, silent: closed without a byte');
  assert.equal(b.received, '', 'implicit TLS, dripped: closed without a byte');
  assert.ok(b.sent < hello.length, `implicit TLS, dripped: cut after ${b.sent} of ${hello.length} bytes`);
  assert.equal(c.received, '', 'STARTTLS, silent: nothing after the 220');
  assert.equal(d.received, '', 'STARTTLS, dripped: nothing after the 220');
  assert.ok(d.sent < hello.length, `STARTTLS, dripped: cut after ${d.sent} of ${hello.length} bytes`);
  await drained();
});
