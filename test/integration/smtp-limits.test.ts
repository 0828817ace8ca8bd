import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';
import { waitFor } from '../support/wait-for.js';

let h: Harness;
before(async () => {
  h = await startHarness({
    directory: testDirectoryYaml,
    limits: { maxConnections: 4, maxConnectionsPerIp: 2, maxErrors: 3, maxLineLength: 512, maxUnknownCommands: 4, commandTimeout: 1500 },
  });
});
after(async () => {
  await h.stop();
});

async function open(localAddress: string): Promise<RawSmtpClient> {
  return RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress });
}

async function settle(): Promise<void> {
  await waitFor(() => h.relay.server.openConnections === 0, { message: () => `the previous test's connections closed (${h.relay.server.openConnections} open)` });
}

test('connections per IP and in total are limited, with 421 replies', async () => {
  await settle();
  const a = await open('127.0.0.1');
  const b = await open('127.0.0.1');
  assert.match(await a.read(), /^220 /);
  assert.match(await b.read(), /^220 /);
  const third = await open('127.0.0.1');
  assert.equal(await third.read(), '421 4.7.0 Too many connections from your address, try again later');
  await third.closed();
  const c = await open('127.0.0.2');
  const d = await open('127.0.0.3');
  assert.match(await c.read(), /^220 /);
  assert.match(await d.read(), /^220 /);
  const fifth = await open('127.0.0.4');
  assert.equal(await fifth.read(), '421 4.7.0 Too many connections, try again later');
  await fifth.closed();
  for (const x of [a, b, c, d]) x.close();
  await settle();
  assert.equal(h.relay.server.openConnections, 0);
  const again = await open('127.0.0.1');
  assert.match(await again.read(), /^220 /, 'slots are released when sessions end');
  again.close();
});

test('after maxErrors refusals the next command is answered 421 and the connection closes', async () => {
  await settle();
  const c = await open('127.0.0.4');
  await c.read();
  await c.command('EHLO stranger.example');
  await c.command('MAIL FROM:<x@stranger.example>');
  for (let i = 0; i < 3; i++) assert.equal(await c.command(`RCPT TO:<v${i}@elsewhere.example>`), '550 5.7.64 TenantAttribution; Relay Access Denied');
  assert.equal(await c.command('RCPT TO:<v9@elsewhere.example>'), '421 4.7.0 Too many errors, closing connection');
  assert.equal(await c.closed(), '');
});

test('a command line over the limit closes the connection', async () => {
  await settle();
  const c = await open('127.0.0.1');
  await c.read();
  c.write(`EHLO ${'a'.repeat(600)}\r\n`);
  assert.equal(await c.read(), '421 4.4.2 Error: Command line too long');
  await c.closed();
});

test('maxUnknownCommands unknown commands close the connection', async () => {
  await settle();
  const c = await open('127.0.0.1');
  await c.read();
  for (let i = 0; i < 3; i++) assert.equal(await c.command(`XYZZY${i}`), '500 5.5.2 Error: command not recognized');
  assert.equal(await c.command('XYZZY9'), '421 4.7.0 Too many unrecognized commands, closing connection');
  await c.closed();
});

test('a directory change applies to the next session without a restart', async () => {
  await settle();
  const relay = async () => {
    const c = await open('127.0.0.4');
    await c.read();
    await c.command('EHLO x');
    await c.command('MAIL FROM:<app@newco.example>');
    const r = await c.command('RCPT TO:<a@elsewhere.example>');
    c.close();
    return r;
  };
  assert.equal(await relay(), '550 5.7.64 TenantAttribution; Relay Access Denied');
  h.setDirectory(`${testDirectoryYaml}
  - name: newco
    acceptedDomains: [{ domain: newco.example }]
    inboundConnectors: [{ name: office, type: OnPremises, senderIPAddresses: [127.0.0.4/32] }]
`);
  assert.equal(await relay(), '250 2.1.5 Recipient OK');
});

test('a client that sends nothing within the command timeout is disconnected with 421', async () => {
  await settle();
  const c = await open('127.0.0.1');
  assert.match(await c.read(), /^220 /);
  await c.command('EHLO idle.example');
  assert.equal(await c.read(), '421 4.4.2 Timeout - closing connection');
  await c.closed();
});
