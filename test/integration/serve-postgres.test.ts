/**
 * `relaygate serve` on a PostgreSQL store: Postfix's smtp-source sends a bounded burst through it to
 * a receiving server on loopback; every message arrives exactly once, the queue empties, and the
 * node's data directory holds no message (bodies and rows are in the database).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testDatabase } from '../support/postgres.js';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';

const MESSAGES = 100;
const SESSIONS = 4;

let dir: string;
let url: string;
let receiver: SmtpReceiver;
let serve: ServeProcess;

function smtpSource(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/sbin/smtp-source', args, { timeout: 90_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

before(async () => {
  url = await testDatabase('serve');
  dir = mkdtempSync(join(tmpdir(), 'relaygate-serve-pg-'));
  receiver = new SmtpReceiver();
  const sink = await receiver.start();
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `hostname: relay.test
dataDir: ./data
store: "${url}"
postgres: { poolSize: 4 }
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery:
  dns: { servers: ["127.0.0.1:9"], timeout: 1s }
  routes:
    - { domains: [external.example], host: "127.0.0.1:${sink}", tls: none }
`,
  );
  writeFileSync(
    join(dir, 'tenants.yaml'),
    `tenants:
  - name: load
    acceptedDomains: [{ domain: load.example }]
    inboundConnectors:
      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }
`,
  );
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  // The deliveries below are checked for the tenant's X-Relaygate-Tenant field, which relayed mail has only when the tenant keeps it.
  const kept = await runRelaygate(['headers', 'set', 'load', '--relayed', 'keep', '--config', 'relaygate.yaml'], dir);
  assert.equal(kept.code, 0, kept.stderr);
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
});

after(async () => {
  await serve?.stop();
  await receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`serve on PostgreSQL: ${MESSAGES} messages over ${SESSIONS} sessions arrive once each, the queue empties, the node keeps no message`, async () => {
  const port = serve.ports.get('plain')!;
  const sent = await smtpSource(['-d', '-s', String(SESSIONS), '-m', String(MESSAGES), '-l', '2048', '-N', '-f', 'app@load.example', '-t', 'rcpt@external.example', '-M', 'client.test', `127.0.0.1:${port}`]);
  assert.equal(sent.code, 0, `smtp-source failed: ${sent.stderr}\n${serve.stderr().slice(-3000)}`);
  const got = await waitFor(() => receiver.messages.length >= MESSAGES && receiver.messages, {
    message: () => `${MESSAGES} messages at the receiver (${receiver.messages.length} so far; serve said: ${serve.stderr().slice(-2000)})`,
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  const recipients = got.flatMap((m) => m.recipients.map((r) => r.address));
  assert.equal(new Set(recipients).size, MESSAGES, 'no message was delivered twice');
  for (const m of got) assert.match(m.body.toString('latin1'), /\r\nX-Relaygate-Tenant: load\r\n/);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let left = '';
    await waitFor(
      async () => {
        const { rows } = await client.query<{ what: string; n: number }>(
          `SELECT 'recipients ' || state AS what, count(*)::int AS n FROM recipients GROUP BY state
           UNION ALL SELECT 'messages', count(*)::int FROM messages UNION ALL SELECT 'bodies', count(*)::int FROM bodies`,
        );
        left = rows.filter((r) => r.n > 0).map((r) => `${r.what}: ${r.n}`).join(', ');
        return left === '';
      },
      { message: () => `delivered messages and their bodies leave the database (left: ${left}; serve said: ${serve.stderr().slice(-3000)})`, timeoutMs: 20_000, intervalMs: 200 },
    );
    const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM decisions WHERE verdict <> 'rejected'");
    assert.ok(rows[0]!.n >= MESSAGES, `the decisions are in the database (${rows[0]!.n})`);
  } finally {
    await client.end();
  }
  const data = join(dir, 'data');
  const kept = existsSync(data) ? readdirSync(data) : [];
  assert.equal(kept.includes('relaygate.db') || kept.includes('spool'), false, `the data directory holds: ${kept.join(', ')}`);
});
