/**
 * A mail loop ends here: a message that arrives with more `Received:` fields than limits.maxHops
 * (Postfix's hopcount_limit, 50) is refused at the end of DATA with 554 5.4.6 and nothing is queued.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { testDirectoryYaml } from '../support/test-directory.js';

let h: Harness;
let strict: Harness;
before(async () => {
  h = await startHarness({ directory: testDirectoryYaml });
  strict = await startHarness({ directory: testDirectoryYaml, limits: { maxHops: 3 } });
});
after(async () => {
  await h.stop();
  await strict.stop();
});

function message(hops: number): string {
  const received = Array.from({ length: hops }, (_, i) => `Received: from hop${i}.example (hop${i}.example [192.0.2.${i % 250}])\r\n\tby hop${i + 1}.example; Tue, 1 Dec 2026 09:00:00 +0000\r\n`);
  return `${received.join('')}From: app@contoso.example\r\nSubject: ${hops} hops\r\n\r\nlooping body\r\n`;
}

/** One transaction relayed by contoso's application; returns the reply to the end of DATA. */
async function send(harness: Harness, hops: number, c?: RawSmtpClient): Promise<string> {
  const client = c ?? (await RawSmtpClient.connect({ host: '127.0.0.1', port: harness.port('smtp') }));
  if (!c) {
    await client.read();
    await client.command('EHLO app.contoso.example');
  }
  assert.equal(await client.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
  assert.equal(await client.command('RCPT TO:<someone@elsewhere.example>'), '250 2.1.5 Recipient OK');
  assert.equal(await client.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  client.write(message(hops) + '.\r\n');
  const reply = await client.read();
  if (!c) client.close();
  return reply;
}

const count = (harness: Harness): number => (harness.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;

function spoolFiles(harness: Harness): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else out.push(e.name);
    }
  };
  const root = join(harness.dataDir, 'spool');
  if (existsSync(root)) walk(root);
  return out;
}

test('500 Received: fields: 554 5.4.6 Too many hops at the end of DATA, nothing queued, the session goes on', async () => {
  const messages = count(h);
  const files = spoolFiles(h).length;
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp') });
  await c.read();
  await c.command('EHLO app.contoso.example');
  assert.equal(await send(h, 500, c), '554 5.4.6 Too many hops');
  assert.equal(count(h), messages, 'no message row');
  assert.equal(spoolFiles(h).length, files, 'no spool file left behind');
  // The same connection can still send mail that does not loop.
  assert.match(await send(h, 2, c), /^250 2\.0\.0 OK </);
  c.close();
});

test('50 Received: fields pass, 51 are refused (the default limit, as Postfix)', async () => {
  assert.match(await send(h, 50), /^250 2\.0\.0 OK </);
  assert.equal(await send(h, 51), '554 5.4.6 Too many hops');
});

test('limits.maxHops sets the limit', async () => {
  assert.match(await send(strict, 3), /^250 2\.0\.0 OK </);
  assert.equal(await send(strict, 4), '554 5.4.6 Too many hops');
});
