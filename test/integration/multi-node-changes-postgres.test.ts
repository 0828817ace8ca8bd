/**
 * A change made on one node applies on the others within seconds, with nothing sent between them:
 * each node polls the directory's and the tenant settings' revisions in the shared database (once
 * a second) and rebuilds its snapshot when one moved. Two `relaygate serve` processes share one
 * PostgreSQL database; the CLI, run with node a's configuration, adds a connector and then sets a
 * quota; node b, which nobody told, relays for the new connector and enforces the new quota.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase } from '../support/postgres.js';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
const serves: ServeProcess[] = [];

before(async () => {
  const url = await testDatabase('multinode-changes');
  dir = mkdtempSync(join(tmpdir(), 'relaygate-multinode-changes-'));
  for (const node of ['a', 'b']) {
    writeFileSync(
      join(dir, `node-${node}.yaml`),
      `hostname: relay-${node}.test
nodeId: node-${node}
dataDir: ./data-${node}
store: "${url}"
postgres: { poolSize: 3 }
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery: { enabled: false }
`,
    );
  }
  // The tenant has its domain, but no connector covers 127.0.0.1 yet: relaying from it is refused.
  writeFileSync(join(dir, 'before.yaml'), 'tenants:\n  - name: contoso\n    acceptedDomains: [{ domain: contoso.example }]\n');
  writeFileSync(
    join(dir, 'after.yaml'),
    `tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.example }]
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [127.0.0.1] }
`,
  );
  const applied = await runRelaygate(['apply', '-f', 'before.yaml', '--config', 'node-a.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  for (const node of ['a', 'b']) serves.push(await startServe(['--config', `node-${node}.yaml`], dir, ['plain']));
});

after(async () => {
  for (const s of serves) await s.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The replies node b gives one session's MAIL FROM and RCPT TOs (then QUIT). */
async function rcptReplies(serve: ServeProcess, recipients: string[]): Promise<string[]> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve.ports.get('plain')! });
  try {
    assert.match(await c.read(), /^220 /);
    assert.match(await c.command('EHLO app.contoso.example'), /^250/);
    assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
    const replies: string[] = [];
    for (const r of recipients) replies.push(await c.command(`RCPT TO:<${r}>`));
    await c.command('QUIT');
    return replies;
  } finally {
    c.close();
  }
}

test('a directory change made through one node applies on the other without a restart or a message between them', async () => {
  const nodeB = serves[1]!;
  assert.deepEqual(await rcptReplies(nodeB, ['someone@outside.example']), ['550 5.7.64 TenantAttribution; Relay Access Denied']);
  const applied = await runRelaygate(['apply', '-f', 'after.yaml', '--config', 'node-a.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  await waitFor(async () => (await rcptReplies(nodeB, ['someone@outside.example']))[0] === '250 2.1.5 Recipient OK', {
    message: 'node b relays for the connector added through node a',
    intervalMs: 200,
  });
});

test('a tenant setting changed through one node applies on the other: a quota set on a is enforced by b', async () => {
  const nodeB = serves[1]!;
  await waitFor(async () => (await rcptReplies(nodeB, ['one@outside.example']))[0] === '250 2.1.5 Recipient OK', { message: 'node b relays for contoso', intervalMs: 200 });
  const set = await runRelaygate(['quota', 'set', 'contoso', '1', '--config', 'node-a.yaml'], dir);
  assert.equal(set.code, 0, set.stderr);
  // The quota counts accepted recipients: once b reads the limit, today's count is already past it.
  await waitFor(async () => (await rcptReplies(nodeB, ['two@outside.example']))[0] === '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC', {
    message: 'node b enforces the quota set through node a',
    intervalMs: 200,
  });
});
