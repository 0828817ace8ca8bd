/**
 * The SRS reflection attack, against the live relay (the composition root of `relaygate serve`:
 * listeners, policy, queue, delivery, SQLite) over loopback. An attacker gets relaygate to mint an
 * SRS address for a victim's address (inbound mail from a host matching no connector, or a
 * tenant's internal mail, both with the victim as MAIL FROM), reads it in the delivered copy, then
 * sends `MAIL FROM:<>` to it from anywhere so that relaygate delivers any content to the victim.
 * Inbound and internal mail keep their P1, and a bounce is honoured only for a message relaygate
 * really relayed, at most twice per outside recipient, rate-limited per source address.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { openSqliteStores, type SqliteStores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { Srs } from '../../src/delivery/srs.js';
import { systemClock } from '../../src/core/clock.js';
import { RawSmtpClient, sendMessage } from '../support/smtp-client.js';
import { writeRecordingRouteConfig } from '../support/relaygate-process.js';
import { tenantAndLegacySaasYaml } from '../support/test-directory.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';

const REFUSED = '550 5.1.1 Unknown or expired SRS address';

let dir: string;
let stores: SqliteStores;
let relay: Awaited<ReturnType<typeof serve>>;
let port: number;
const receiver = new SmtpReceiver();
const errors: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-srs-reflection-'));
  const sink = await receiver.start('127.0.0.1');
  const config = loadConfig(
    writeRecordingRouteConfig(dir, { domains: ['acme.example', 'saas.example', 'foreign.example', 'partner.example', 'outside.example', 'bank.example'], sinkPort: sink }),
    {},
  );
  stores = openSqliteStores(config);
  // acme: an ordinary tenant (its servers on 127.0.0.1). saas: relays for its customers' sender
  // domains under the legacy rule set (its header From is its own), from 127.0.0.5.
  await stores.directory.replace(
    parseDirectoryYaml(tenantAndLegacySaasYaml('acme')),
  );
  relay = await serve({ config, stores, log: (level, message) => void (level === 'error' && errors.push(message)) });
  port = relay.listeners.find((l) => l.name === 'plain')!.port;
});

after(async () => {
  await relay?.stop();
  stores?.close();
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function session(from: string): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, localAddress: from });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO client.test'), /^250/);
  return c;
}

/** One whole transaction; returns the reply to the end of DATA. */
async function send(from: string, mailFrom: string, rcpt: string, content: string): Promise<string> {
  const c = await session(from);
  try {
    return await sendMessage(c, mailFrom, [rcpt], content);
  } finally {
    await c.command('QUIT').catch(() => '');
    c.close();
  }
}

/** Waits, bounded, for the first delivered message to `to`. */
async function deliveredTo(to: string, nth = 1, waitMs = 30_000): Promise<ReceivedMessage> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const got = receiver.messages.filter((m) => m.recipients.some((r) => r.address.toLowerCase() === to.toLowerCase()));
    if (got.length >= nth) return got[nth - 1]!;
    if (Date.now() > deadline) throw new Error(`nothing delivered to ${to} within ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The SRS address relaygate's own HMAC secret gives for `address` today: what an insider could forge. */
function mintWithRealSecret(address: string): string {
  const secret = stores.db.prepare("SELECT value FROM delivery_secrets WHERE name = 'srs'").pluck().get() as string;
  return new Srs({ secrets: [secret], rewriteDomain: 'relay.test' }, systemClock).forward(address);
}

/**
 * Bounces to `srs` from a stranger's address, as given and upper-cased, with a body of the
 * attacker's choosing: returns the replies to both RCPTs (DATA goes on only if one was accepted).
 */
async function reflect(srs: string, from: string): Promise<string[]> {
  const c = await session(from);
  try {
    assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
    const replies = [await c.command(`RCPT TO:<${srs}>`), await c.command(`RCPT TO:<${srs.toUpperCase()}>`)];
    if (replies.some((r) => r.startsWith('250'))) {
      if ((await c.command('DATA')).startsWith('354')) await c.command('From: support@bank.example\r\nSubject: Your account\r\n\r\nclick here\r\n.');
    }
    return replies;
  } finally {
    await c.command('QUIT').catch(() => '');
    c.close();
  }
}

const victimMail = (n: number): string => `From: victim@foreign.example\r\nSubject: attack ${n}\r\n\r\nbody`;

/** Decisions are written in the next group-commit round: wait for it, then read them. */
async function decisions<T>(sql: string, ...args: unknown[]): Promise<T[]> {
  await relay.acceptor.drain();
  return stores.db.prepare(sql).all(...args) as T[];
}

function queuedFor(pattern: string): number {
  return stores.db.prepare('SELECT COUNT(*) FROM recipients WHERE lower(address) LIKE ?').pluck().get(pattern) as number;
}

describe('SRS reflection: minting an address for a victim and bouncing to it', () => {
  test('inbound mail from a host matching no connector keeps its P1, and a bounce to the victim’s SRS address is refused', async () => {
    assert.match(await send('127.0.0.20', 'victim@foreign.example', 'user@acme.example', victimMail(1)), /^250 2\.0\.0 OK /);
    const copy = await deliveredTo('user@acme.example');
    // The attacker reads the delivered copy's MAIL FROM; with nothing minted, forges the address.
    const srs = /^SRS0=/i.test(copy.from) ? copy.from : mintWithRealSecret('victim@foreign.example');
    assert.deepEqual(await reflect(srs, '127.0.0.21'), [REFUSED, REFUSED]);
    assert.equal(queuedFor('victim@%'), 0, 'nothing queued for the victim');
    assert.equal(copy.from, 'victim@foreign.example', 'inbound mail to an accepted domain is not SRS-rewritten');
  });

  test('a tenant’s internal mail keeps its P1, and a bounce to the SRS address is refused', async () => {
    assert.match(await send('127.0.0.1', 'victim@foreign.example', 'staff@acme.example', victimMail(2)), /^250 2\.0\.0 OK /);
    const copy = await deliveredTo('staff@acme.example');
    const srs = /^SRS0=/i.test(copy.from) ? copy.from : mintWithRealSecret('victim@foreign.example');
    assert.deepEqual(await reflect(srs, '127.0.0.22'), [REFUSED, REFUSED]);
    assert.equal(queuedFor('victim@%'), 0, 'nothing queued for the victim');
    assert.equal(copy.from, 'victim@foreign.example', 'internal mail is not SRS-rewritten');
  });

  test('an SRS address forged with the real HMAC secret for a message never relayed is refused', async () => {
    const forged = mintWithRealSecret('ceo@bank.example');
    assert.deepEqual(await reflect(forged, '127.0.0.23'), [REFUSED, REFUSED]);
    const logged = await decisions<{ reply: string; steps: string }>('SELECT reply, steps FROM decisions WHERE lower(recipient) = lower(?) ORDER BY id', forged);
    assert.ok(logged.length >= 1, 'the refusal is in the decision record');
    assert.equal(logged[0]!.reply, REFUSED);
    assert.match(logged[0]!.steps, /no record of relaying a message with that sender/);
  });
});

describe('SRS returns for mail relaygate relayed', () => {
  let srs = '';

  test('a tenant relaying a customer’s sender to an outside domain gets an SRS sender; a real bounce returns to the original sender', async () => {
    assert.match(await send('127.0.0.5', 'news@partner.example', 'reader@outside.example', 'From: app@saas.example\r\nSubject: news\r\n\r\nbody'), /^250 2\.0\.0 OK /);
    const copy = await deliveredTo('reader@outside.example');
    assert.match(copy.from, /^SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=partner\.example=news@relay\.test$/);
    srs = copy.from;
    assert.match(await send('127.0.0.30', '', srs, 'From: MAILER-DAEMON@outside.example\r\nSubject: Undelivered Mail\r\n\r\nreader is gone'), /^250 2\.0\.0 OK /);
    const bounce = await deliveredTo('news@partner.example');
    assert.equal(bounce.from, '', 'the bounce keeps its null sender');
    assert.deepEqual(bounce.recipients.map((r) => r.address), ['news@partner.example']);
  });

  test('one outside recipient allows two returns (a delay and a failure notice); the third is refused, in any case', async () => {
    assert.ok(srs, 'needs the SRS address of the previous test');
    assert.match(await send('127.0.0.31', '', srs.toUpperCase(), 'Subject: Delayed Mail\r\n\r\nstill trying'), /^250 2\.0\.0 OK /, 'an upper-cased address is the same address');
    await deliveredTo('news@partner.example', 2);
    assert.deepEqual(await reflect(srs, '127.0.0.32'), [REFUSED, REFUSED]);
    const [logged] = await decisions<{ steps: string }>('SELECT steps FROM decisions WHERE lower(recipient) = lower(?) AND reply = ? ORDER BY id DESC', srs, REFUSED);
    assert.match(logged?.steps ?? '', /returns are used up \(2 per outside recipient\)/);
  });

  test('two sessions racing for the last return: only one gets it; an abandoned bounce gives its return back', async () => {
    assert.match(await send('127.0.0.5', 'news@partner.example', 'other@outside.example', 'From: app@saas.example\r\nSubject: news 2\r\n\r\nbody'), /^250 2\.0\.0 OK /);
    const second = (await deliveredTo('other@outside.example')).from;
    assert.match(second, /^SRS0=/);
    assert.equal(second, srs, 'the same sender on the same day gives the same address; this message brings its own two returns');
    const clients = await Promise.all(['127.0.0.33', '127.0.0.34', '127.0.0.35'].map((ip) => session(ip)));
    try {
      for (const c of clients) assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
      const replies = await Promise.all(clients.map((c) => c.command(`RCPT TO:<${second}>`)));
      assert.deepEqual([...replies].sort(), ['250 2.1.5 Recipient OK', '250 2.1.5 Recipient OK', REFUSED]);
      // One accepted session starts a new transaction instead of sending DATA: its return comes back.
      const abandoning = clients[replies.indexOf('250 2.1.5 Recipient OK')]!;
      assert.match(await abandoning.command('RSET'), /^250 /);
      assert.equal(await abandoning.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
      assert.equal(await abandoning.command(`RCPT TO:<${second}>`), '250 2.1.5 Recipient OK');
      assert.equal(await abandoning.command(`RCPT TO:<${second.toUpperCase()}>`), '250 2.1.5 Recipient OK', 'a repeated RCPT keeps the return it took');
      assert.equal(await clients[replies.indexOf(REFUSED)]!.command(`RCPT TO:<${second}>`), REFUSED, 'still none left for a third');
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('bounces are rate-limited per source address, and the decision record shows the count', async () => {
    assert.match(await send('127.0.0.5', 'letters@partner.example', 'many@outside.example', 'From: app@saas.example\r\nSubject: news 3\r\n\r\nbody'), /^250 2\.0\.0 OK /);
    const address = (await deliveredTo('many@outside.example')).from;
    const c = await session('127.0.0.40');
    try {
      // Each bounce is taken, then abandoned (its return given back): only the rate stops them.
      for (let i = 0; i < 30; i++) {
        if (i > 0) assert.match(await c.command('RSET'), /^250 /);
        assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
        assert.equal(await c.command(`RCPT TO:<${address}>`), '250 2.1.5 Recipient OK', `bounce ${i + 1}`);
      }
      assert.match(await c.command('RSET'), /^250 /);
      assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
      assert.equal(await c.command(`RCPT TO:<${address}>`), '450 4.7.1 Too many bounces from this address, try again later');
    } finally {
      c.close();
    }
    const [logged] = await decisions<{ reply: string; steps: string }>("SELECT reply, steps FROM decisions WHERE client_ip = '127.0.0.40' ORDER BY id DESC");
    assert.ok(logged);
    assert.equal(logged.reply, '450 4.7.1 Too many bounces from this address, try again later');
    assert.match(logged.steps, /30 bounce\(s\) to SRS addresses from 127\.0\.0\.40 in the last 60 s, limit 30/);
    const other = await session('127.0.0.41');
    try {
      assert.equal(await other.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
      assert.equal(await other.command(`RCPT TO:<${address}>`), '250 2.1.5 Recipient OK', 'another source is not limited');
    } finally {
      other.close();
    }
  });

  test('nothing reached the victims, nothing for them is queued, and the relay logged no error', async () => {
    assert.equal(receiver.messages.filter((m) => m.recipients.some((r) => /^(victim@foreign|ceo@bank)\.example$/i.test(r.address))).length, 0);
    assert.equal(queuedFor('victim@%') + queuedFor('ceo@%'), 0);
    assert.deepEqual(errors, []);
  });
});
