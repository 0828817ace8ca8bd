import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser as parse, type Attachment, type ParsedMail } from 'mailparser';
import { buildDsn, dsnWanted, type DsnInput } from './dsn.js';
import { reply } from '../core/reply.js';

/** keepDeliveryStatus: the message/delivery-status part stays a part instead of joining the text. */
const simpleParser = (b: Buffer): Promise<ParsedMail> => parse(b, { keepDeliveryStatus: true });

const original = Buffer.from(
  'From: Alice <alice@contoso.test>\r\nTo: bob@remote.test\r\nSubject: Quarterly report\r\nMessage-ID: <orig-1@contoso.test>\r\n\r\nHello Bob,\r\nthe body.\r\n',
);
const arrival = Date.UTC(2026, 1, 3, 9, 0, 0);

function input(over: Partial<DsnInput> = {}): DsnInput {
  return {
    kind: 'failure',
    reportingMta: 'relay.example.net',
    queueId: '01abcdefghjkmnpqrstv',
    originalSender: 'alice@contoso.test',
    envId: 'env-42',
    ret: null,
    arrivalDate: arrival,
    willRetryUntil: null,
    recipients: [
      { address: 'bob@remote.test', orcpt: 'rfc822;Bob@Remote.test', reply: reply(550, '5.1.1', 'bob: user unknown'), remoteMta: 'mx.remote.test', lastAttemptAt: arrival + 60_000 },
      { address: 'carol@remote.test', orcpt: null, reply: reply(556, '5.1.10', 'Recipient address has null MX'), remoteMta: null, lastAttemptAt: null },
    ],
    original,
    now: arrival + 120_000,
    ...over,
  };
}

/** message/delivery-status: per-message block then one block per recipient. */
function statusBlocks(text: string): Array<Record<string, string>> {
  return text.trim().split(/\r?\n\r?\n/).map((block) => {
    const fields: Record<string, string> = {};
    for (const line of block.split(/\r?\n/)) {
      const i = line.indexOf(':');
      fields[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    return fields;
  });
}

function part(attachments: Attachment[], type: string): Attachment {
  const a = attachments.find((x) => x.contentType === type);
  assert.ok(a, `no ${type} part; parts: ${attachments.map((x) => x.contentType).join(', ')}`);
  return a;
}

test('a failure DSN is a multipart/report with every RFC 3464 field', async () => {
  const parsed = await simpleParser(buildDsn(input()));
  assert.deepEqual(parsed.from?.value, [{ address: 'MAILER-DAEMON@relay.example.net', name: 'Mail Delivery System' }]);
  assert.equal(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '', 'alice@contoso.test');
  assert.equal(parsed.subject, 'Undelivered Mail Returned to Sender');
  assert.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
  assert.match(parsed.headerLines.find((h) => h.key === 'content-type')?.line ?? '', /^Content-Type: multipart\/report; report-type=delivery-status;/);
  assert.match(parsed.text ?? '', /could not be delivered/);
  assert.match(parsed.text ?? '', /<bob@remote\.test>: 550 5\.1\.1 bob: user unknown/);
  const [msg, bob, carol] = statusBlocks(part(parsed.attachments, 'message/delivery-status').content.toString());
  assert.deepEqual(msg, { 'Original-Envelope-Id': 'env-42', 'Reporting-MTA': 'dns; relay.example.net', 'Arrival-Date': 'Tue, 03 Feb 2026 09:00:00 +0000' });
  assert.deepEqual(bob, {
    'Original-Recipient': 'rfc822;Bob@Remote.test',
    'Final-Recipient': 'rfc822; bob@remote.test',
    Action: 'failed',
    Status: '5.1.1',
    'Remote-MTA': 'dns; mx.remote.test',
    'Diagnostic-Code': 'smtp; 550 5.1.1 bob: user unknown',
    'Last-Attempt-Date': 'Tue, 03 Feb 2026 09:01:00 +0000',
  });
  assert.deepEqual(carol, {
    'Final-Recipient': 'rfc822; carol@remote.test',
    Action: 'failed',
    Status: '5.1.10',
    'Diagnostic-Code': 'X-Relaygate; 556 5.1.10 Recipient address has null MX',
  });
  const returned = part(parsed.attachments, 'message/rfc822').content.toString();
  assert.match(returned, /Subject: Quarterly report/);
  assert.match(returned, /the body\./, 'without RET a failure DSN returns the full message');
});

test('RET=HDRS returns only the headers, as text/rfc822-headers', async () => {
  const parsed = await simpleParser(buildDsn(input({ ret: 'HDRS' })));
  const headers = part(parsed.attachments, 'text/rfc822-headers').content.toString();
  assert.match(headers, /Message-ID: <orig-1@contoso\.test>/);
  assert.doesNotMatch(headers, /the body/);
  assert.equal(parsed.attachments.some((a) => a.contentType === 'message/rfc822'), false);
});

test('a delayed DSN says delayed, gives Will-Retry-Until and returns headers unless RET=FULL', async () => {
  const until = arrival + 24 * 3_600_000;
  const parsed = await simpleParser(buildDsn(input({ kind: 'delay', envId: null, willRetryUntil: until, recipients: [
    { address: 'bob@remote.test', orcpt: null, reply: reply(451, '4.4.1', 'Connection to mx failed'), remoteMta: null, lastAttemptAt: arrival + 4 * 3_600_000 },
  ] })));
  assert.equal(parsed.subject, 'Delayed Mail (still being retried)');
  const [msg, bob] = statusBlocks(part(parsed.attachments, 'message/delivery-status').content.toString());
  assert.equal(msg!['Original-Envelope-Id'], undefined);
  assert.equal(bob!.Action, 'delayed');
  assert.equal(bob!.Status, '4.4.1');
  assert.equal(bob!['Will-Retry-Until'], 'Wed, 04 Feb 2026 09:00:00 +0000');
  assert.ok(parsed.attachments.some((a) => a.contentType === 'text/rfc822-headers'));
  const full = await simpleParser(buildDsn(input({ kind: 'delay', ret: 'FULL', willRetryUntil: until })));
  assert.ok(full.attachments.some((a) => a.contentType === 'message/rfc822'));
});

test('a message larger than the return limit comes back as headers only', async () => {
  const parsed = await simpleParser(buildDsn(input({ ret: 'FULL', maxReturnedBytes: 10 })));
  assert.ok(parsed.attachments.some((a) => a.contentType === 'text/rfc822-headers'));
});

test('NOTIFY decides who gets which DSN', () => {
  assert.equal(dsnWanted('failure', null), true);
  assert.equal(dsnWanted('delay', null), true);
  assert.equal(dsnWanted('failure', 'NEVER'), false);
  assert.equal(dsnWanted('failure', 'SUCCESS,DELAY'), false);
  assert.equal(dsnWanted('delay', 'success,delay'), true);
  assert.equal(dsnWanted('failure', 'FAILURE'), true);
  assert.equal(dsnWanted('delay', 'FAILURE'), false);
});
