/**
 * `relaygate serve` as one process, front end and delivery together: Postfix's smtp-source sends a
 * bounded burst through it to a receiving server on loopback (every message arrives exactly once and
 * the queue empties), the daily recipient quota refuses at RCPT with its own reply, and a bounce to
 * an SRS address the relay made for relayed mail travels back to the original sender while a forged
 * one is refused.
 * Every address is routed to the loopback receiver; DNS points at a closed loopback port.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runRelaygate, startServe, writeRecordingRouteConfig, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';

const MESSAGES = 200;
const SESSIONS = 5;

let dir: string;
let receiver: SmtpReceiver;
let serve: ServeProcess;
let port: number;

function smtpSource(args: string[]): Promise<{ code: number; stderr: string }> {
  const bin = '/usr/sbin/smtp-source';
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 90_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

/** Waits, bounded, until the receiver holds `count` messages matching `filter`. */
async function received(filter: (m: ReceivedMessage) => boolean, count: number, waitMs = 60_000): Promise<ReceivedMessage[]> {
  return waitFor(
    () => {
      const got = receiver.messages.filter(filter);
      return got.length >= count && got;
    },
    { message: () => `${count} message(s) at the receiver (${receiver.messages.filter(filter).length} so far)`, timeoutMs: waitMs, intervalMs: 100 },
  );
}

async function session(localAddress = '127.0.0.1'): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO client.test'), /^250/);
  return c;
}

const QUOTA_REFUSAL = '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC';

async function quotaSet(tenant: string, limit: string): Promise<void> {
  const set = await runRelaygate(['quota', 'set', tenant, limit, '--config', 'relaygate.yaml'], dir);
  assert.equal(set.code, 0, set.stderr);
}

/** The reply to one RCPT of legacyapp's application (127.0.0.2), in a transaction left unsent. */
async function legacyappRcpt(): Promise<string> {
  const c = await session('127.0.0.2');
  try {
    assert.equal(await c.command('MAIL FROM:<app@legacy.example>'), '250 2.1.0 Sender OK');
    return await c.command('RCPT TO:<probe@external.example>');
  } finally {
    await c.command('QUIT');
    c.close();
  }
}

/**
 * Waits until the running server applies the tenant settings written so far. It reads them as one
 * snapshot at one revision, so once the last change applies every earlier one does: the last is
 * legacyapp's limit, 0 (its RCPT is refused) or unlimited (accepted again), and legacyapp's RCPT
 * shows it without touching the counts the tests look at.
 */
async function settingsApplied(legacyappReply: string): Promise<void> {
  let last = '';
  await waitFor(async () => (last = await legacyappRcpt()) === legacyappReply, {
    message: () => `legacyapp's RCPT answered ${legacyappReply} (last: ${last})`,
    intervalMs: 100,
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-e2e-'));
  receiver = new SmtpReceiver();
  const sink = await receiver.start();
  writeRecordingRouteConfig(dir, { domains: ['external.example', 'load.example', 'foreign.example', 'legacy.example'], sinkPort: sink });
  writeFileSync(
    join(dir, 'tenants.yaml'),
    `tenants:
  - name: load
    acceptedDomains:
      - { domain: load.example }
    inboundConnectors:
      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }
  - name: legacyapp
    relayRuleSet: legacy
    acceptedDomains:
      - { domain: legacy.example }
    inboundConnectors:
      - { name: app, type: OnPremises, senderIPAddresses: [127.0.0.2] }
`,
  );
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  // The deliveries below are checked for the tenant's X-Relaygate-Tenant field, which relayed mail has only when the tenant keeps it.
  const kept = await runRelaygate(['headers', 'set', 'load', '--relayed', 'keep', '--config', 'relaygate.yaml'], dir);
  assert.equal(kept.code, 0, kept.stderr);
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
  port = serve.ports.get('plain')!;
});

after(async () => {
  await serve?.stop();
  await receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve: accept and deliver', () => {
  test(`smtp-source: ${MESSAGES} messages over ${SESSIONS} sessions arrive once each and leave the queue`, async () => {
    const sent = await smtpSource(['-d', '-s', String(SESSIONS), '-m', String(MESSAGES), '-l', '2048', '-N', '-f', 'app@load.example', '-t', 'rcpt@external.example', '-M', 'client.test', `127.0.0.1:${port}`]);
    assert.equal(sent.code, 0, `smtp-source failed: ${sent.stderr}`);
    const got = await received((m) => m.recipients.some((r) => r.address.endsWith('rcpt@external.example')), MESSAGES);
    const recipients = got.flatMap((m) => m.recipients.map((r) => r.address));
    assert.equal(got.length, MESSAGES, 'every accepted message was delivered');
    assert.equal(new Set(recipients).size, MESSAGES, 'no message was delivered twice');
    for (const m of got) {
      assert.equal(m.from, 'app@load.example', 'an accepted envelope sender is not rewritten');
      assert.match(m.body.toString('latin1'), /\r\nX-Relaygate-Tenant: load\r\n/);
    }
    let left: unknown[] = [];
    await waitFor(
      async () => {
        const list = await runRelaygate(['queue', 'list', '--json', '--config', 'relaygate.yaml'], dir);
        assert.equal(list.code, 0, list.stderr);
        left = JSON.parse(list.stdout) as unknown[];
        return left.length === 0;
      },
      { message: () => `delivered messages leave the queue (${left.length} left)`, timeoutMs: 20_000, intervalMs: 200 },
    );
    assert.deepEqual(left, [], 'delivered messages leave the queue');
  });
});

describe('serve: daily recipient quota at RCPT', () => {
  test('the recipient over the limit gets a generic 550 5.7.232, the decision record names tenant and limit; the message goes out for the rest', async () => {
    await quotaSet('load', String(MESSAGES + 1));
    await quotaSet('legacyapp', '0');
    await settingsApplied(QUOTA_REFUSAL);
    const c = await session();
    assert.equal(await c.command('MAIL FROM:<app@load.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<quota-1@external.example>'), '250 2.1.5 Recipient OK');
    assert.equal(
      await c.command('RCPT TO:<quota-2@external.example>'),
      '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC',
    );
    assert.match(await c.command('DATA'), /^354 /);
    assert.match(await c.command('Subject: quota\r\n\r\nbody\r\n.'), /^250 2\.0\.0 OK <[0-9a-z]+>$/);
    await c.command('QUIT');
    const got = await received((m) => m.recipients.some((r) => r.address.startsWith('quota-')), 1);
    assert.deepEqual(got.flatMap((m) => m.recipients.map((r) => r.address)), ['quota-1@external.example']);
    const db2 = new Database(join(dir, 'data', 'relaygate.db'));
    try {
      const refusal = db2.prepare("SELECT reply, steps FROM decisions WHERE recipient = 'quota-2@external.example'").get() as { reply: string; steps: string };
      assert.equal(refusal.reply, '550 5.7.232 Daily recipient quota reached; it resets at 00:00 UTC');
      assert.equal(
        (JSON.parse(refusal.steps) as { explanation: string }).explanation,
        'Accepted by the policy, refused by a tenant limit: daily recipient quota of 201 for tenant load reached',
      );
    } finally {
      db2.close();
    }
    await quotaSet('load', 'unlimited');
    await quotaSet('legacyapp', 'unlimited');
    await settingsApplied('250 2.1.5 Recipient OK');
  });
});

describe('serve: bounces to SRS addresses', () => {
  let srsAddress = '';

  test('a foreign envelope sender relayed to an outside domain is rewritten with SRS on the way out', async () => {
    // legacyapp relays under the legacy rule set: its header From domain is accepted (condition 1c).
    const c = await session('127.0.0.2');
    assert.equal(await c.command('MAIL FROM:<news@foreign.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<reader@external.example>'), '250 2.1.5 Recipient OK');
    assert.match(await c.command('DATA'), /^354 /);
    assert.match(await c.command('From: app@legacy.example\r\nSubject: srs\r\n\r\nbody\r\n.'), /^250 2\.0\.0 OK /);
    await c.command('QUIT');
    const [m] = await received((x) => x.recipients.some((r) => r.address === 'reader@external.example'), 1);
    assert.ok(m, 'delivered');
    assert.match(m.from, /^SRS0=[^=]+=[^=]+=foreign\.example=news@relay\.test$/);
    srsAddress = m.from;
  });

  test('internal mail with a foreign envelope sender keeps it', async () => {
    const c = await session();
    assert.equal(await c.command('MAIL FROM:<news@foreign.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<staff@load.example>'), '250 2.1.5 Recipient OK');
    assert.match(await c.command('DATA'), /^354 /);
    assert.match(await c.command('Subject: internal\r\n\r\nbody\r\n.'), /^250 2\.0\.0 OK /);
    await c.command('QUIT');
    const [m] = await received((x) => x.recipients.some((r) => r.address === 'staff@load.example'), 1);
    assert.ok(m, 'delivered');
    assert.equal(m.from, 'news@foreign.example');
  });

  test('a bounce to that SRS address reaches the original sender, from any host', async () => {
    assert.ok(srsAddress, 'needs the SRS address of the previous test');
    const c = await session();
    assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command(`RCPT TO:<${srsAddress}>`), '250 2.1.5 Recipient OK');
    assert.match(await c.command('DATA'), /^354 /);
    assert.match(await c.command('Subject: Undeliverable\r\n\r\nbounce\r\n.'), /^250 2\.0\.0 OK /);
    await c.command('QUIT');
    const got = await received((x) => x.recipients.some((r) => r.address === 'news@foreign.example'), 1);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.from, '', 'the bounce keeps its null sender');
  });

  test('a forged SRS address is refused, and so is relaying to one in another domain', async () => {
    const c = await session();
    assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
    const forged = srsAddress.replace(/^SRS0=[^=]+=/, 'SRS0=AAAA=');
    assert.equal(await c.command(`RCPT TO:<${forged}>`), '550 5.1.1 Unknown or expired SRS address');
    const elsewhere = srsAddress.replace(/@relay\.test$/, '@elsewhere.example');
    assert.equal(await c.command(`RCPT TO:<${elsewhere}>`), '550 5.7.64 TenantAttribution; Relay Access Denied');
    await c.command('QUIT');
  });
});
