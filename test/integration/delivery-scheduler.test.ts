import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser, type ParsedMail } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { DeliveryHarness, T0 } from './delivery-harness.js';
import { dkimRecordName, dkimTxtRecord, generateDkimKey } from '../../src/delivery/dkim.js';
import { Srs } from '../../src/delivery/srs.js';
import { ManualClock } from '../../src/core/clock.js';
import type { ReceivedMessage } from '../support/smtp-receiver.js';

let h: DeliveryHarness;
afterEach(async () => {
  await h.stop();
});

async function setup(): Promise<DeliveryHarness> {
  h = await DeliveryHarness.started();
  h.dns
    .set('contoso.test', { MX: [{ preference: 10, exchange: 'mx.contoso.test' }] })
    .set('mx.contoso.test', { A: ['127.0.0.2'] });
  return h;
}

const parse = (m: ReceivedMessage): Promise<ParsedMail> => simpleParser(m.body, { keepDeliveryStatus: true });

function statusFields(mail: ParsedMail): Array<Record<string, string>> {
  const part = mail.attachments.find((a) => a.contentType === 'message/delivery-status');
  assert.ok(part, 'the DSN has a message/delivery-status part');
  return part.content.toString().trim().split(/\r?\n\r?\n/).map((block) =>
    Object.fromEntries(block.split(/\r?\n/).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])),
  );
}

test('a relayed message reaches the MX host, DKIM-signed with the tenant key, and leaves the queue', async () => {
  await setup();
  const remote = await h.receiver(1);
  const service = h.makeService();
  const key = { domain: 'contoso.test', selector: 'rg1', algorithm: 'rsa' as const, ...generateDkimKey('rsa') };
  await h.settings.putDkimKey({ tenantId: h.tenantId('contoso'), ...key, active: true, createdAt: T0 });
  h.dns.set(dkimRecordName('rg1', 'contoso.test'), { TXT: [dkimTxtRecord(key)] });
  const id = await h.enqueue({ from: 'alice@contoso.test', to: ['bob@remote.test', 'carol@remote.test'] });

  const pass = await service.runOnce();
  assert.deepEqual({ claimed: pass.claimed, delivered: pass.delivered, removed: pass.removed }, { claimed: 2, delivered: 2, removed: 1 });
  assert.equal(remote.messages.length, 1, 'one transaction for both recipients');
  const got = remote.messages[0]!;
  assert.equal(got.from, 'alice@contoso.test', 'an accepted sender domain is not SRS-rewritten');
  assert.deepEqual(got.recipients.map((r) => r.address), ['bob@remote.test', 'carol@remote.test']);
  assert.equal(got.helo, 'relay.test');
  const verified = await dkimVerify(got.body, { resolver: h.mailauthResolver() });
  assert.deepEqual(verified.results.map((r) => [r.status.result, r.signingDomain]), [['pass', 'contoso.test']]);
  assert.match(got.body.toString(), new RegExp(`Subject: test ${id}`));
  assert.deepEqual((await h.messages()), [], 'delivered messages leave the queue');
});

test('a sender domain the tenant does not own is SRS-rewritten, and reverses with the stored secret', async () => {
  await setup();
  const remote = await h.receiver(1);
  const service = h.makeService();
  await h.enqueue({ from: 'someone@partner.test', to: ['bob@remote.test'] });
  await service.runOnce();
  const from = remote.messages[0]!.from;
  assert.match(from, /^SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=partner\.test=someone@relay\.test$/);
  const srs = new Srs({ secrets: [h.srsSecret], rewriteDomain: 'relay.test' }, new ManualClock(new Date(T0)));
  assert.equal(srs.reverse(from), 'someone@partner.test');
  assert.deepEqual(service.reverseSrs(from), { address: 'someone@partner.test' }, 'a bounce to the SRS address finds the sender');
  assert.deepEqual(service.reverseSrs(from.replace(/^SRS0=[^=]{8}/, 'SRS0=AAAAAAAA')), { error: 'SRS hash does not match' });
  assert.equal(service.reverseSrs('bob@relay.test'), null);
  await h.settings.setSrsSetting(h.tenantId('contoso'), { enabled: false, rewriteDomain: null });
  await h.enqueue({ from: 'someone@partner.test', to: ['bob@remote.test'] });
  await service.runOnce();
  assert.equal(remote.messages[1]!.from, 'someone@partner.test', 'SRS off for the tenant');
});

test('a 5xx destination yields a failure DSN at once, delivered to the sender with every field', async () => {
  await setup();
  const remote = await h.receiver(1, { rcpt: () => ({ code: 550, text: '5.1.1 <bob@remote.test>: no such user' }) });
  const sender = await h.receiver(2);
  const service = h.makeService();
  const id = await h.enqueue({ from: 'alice@contoso.test', to: [{ address: 'bob@remote.test', orcpt: 'rfc822;Bob@remote.test', notify: 'FAILURE' }], envId: 'ENV-7' });

  const first = await service.runOnce();
  assert.deepEqual({ failed: first.failed, dsns: first.dsns }, { failed: 1, dsns: 1 });
  assert.equal(remote.messages.length, 0);
  assert.deepEqual((await h.messages()).map((m) => [m.kind, m.mail_from]), [['dsn', '']], 'the failed message is done once its DSN is queued');
  assert.equal((await h.recipients()).some((r) => r.message_id === id), false);
  await service.runOnce();
  assert.equal(sender.messages.length, 1);
  const dsn = sender.messages[0]!;
  assert.equal(dsn.from, '', 'a DSN is sent with the null sender');
  assert.deepEqual(dsn.recipients.map((r) => r.address), ['alice@contoso.test']);
  const mail = await parse(dsn);
  assert.equal(mail.subject, 'Undelivered Mail Returned to Sender');
  const [perMessage, bob] = statusFields(mail);
  assert.equal(perMessage!['Original-Envelope-Id'], 'ENV-7');
  assert.equal(perMessage!['Reporting-MTA'], 'dns; relay.test');
  assert.equal(perMessage!['Arrival-Date'], 'Mon, 02 Mar 2026 08:00:00 +0000');
  assert.deepEqual(bob, {
    'Original-Recipient': 'rfc822;Bob@remote.test',
    'Final-Recipient': 'rfc822; bob@remote.test',
    Action: 'failed',
    Status: '5.1.1',
    'Remote-MTA': 'dns; mx1.remote.test',
    'Diagnostic-Code': 'smtp; 550 5.1.1 <bob@remote.test>: no such user',
    'Last-Attempt-Date': 'Mon, 02 Mar 2026 08:00:00 +0000',
  });
  assert.ok(mail.attachments.some((a) => a.contentType === 'message/rfc822'), 'the original comes back');
  assert.deepEqual((await h.messages()), [], 'the failed message and the delivered DSN are gone');
});

test('a 4xx destination is retried on schedule, gets a delayed DSN after 4 h and expires into a DSN after 24 h', async () => {
  await setup();
  const remote = await h.receiver(1, { rcpt: () => ({ code: 451, text: '4.2.0 mailbox busy' }) });
  const sender = await h.receiver(2);
  const service = h.makeService();
  const id = await h.enqueue({ from: 'alice@contoso.test', to: ['bob@remote.test'] });
  const attemptsAt: number[] = [];
  let dsnsAfterDelay = 0;
  for (let i = 0; i < 200; i++) {
    const before = remote.attempts.length;
    await service.runOnce();
    if (remote.attempts.length > before) attemptsAt.push(h.clock.now().getTime() - T0);
    const row = (await h.recipients()).find((r) => r.message_id === id);
    if (!row || row.state !== 'deferred') break;
    if (row.delayed_dsn_sent === 1 && dsnsAfterDelay === 0) dsnsAfterDelay = h.clock.now().getTime() - T0;
    h.clock.set(new Date(row.next_attempt_at));
  }
  const min = 60_000;
  assert.deepEqual(attemptsAt.slice(0, 6), [0, 1, 6, 21, 51, 111].map((m) => m * min), 'after 1, 5, 15, 30 minutes, then hourly');
  assert.equal(attemptsAt[attemptsAt.length - 1], 24 * 60 * min, 'a last attempt at the deadline');
  assert.equal(attemptsAt.length, 29);
  assert.equal(dsnsAfterDelay, 291 * min, 'the delayed DSN goes with the first pass after 4 hours (the test only runs passes at attempt times)');
  assert.equal((await h.recipients()).some((r) => r.message_id === id), false, 'the expired message is done once its DSN is queued');
  assert.deepEqual((await h.messages()).map((m) => m.kind), ['dsn']);
  await service.runOnce();
  assert.equal(sender.messages.length, 2, 'one delayed DSN, one failure DSN');
  const [delayed, failed] = await Promise.all(sender.messages.map(parse));
  assert.equal(delayed!.subject, 'Delayed Mail (still being retried)');
  const [, d] = statusFields(delayed!);
  assert.equal(d!.Action, 'delayed');
  assert.equal(d!.Status, '4.2.0');
  assert.equal(d!['Will-Retry-Until'], 'Tue, 03 Mar 2026 08:00:00 +0000');
  assert.ok(delayed!.attachments.some((a) => a.contentType === 'text/rfc822-headers'), 'a delay DSN returns headers only');
  const [, f] = statusFields(failed!);
  assert.equal(f!.Action, 'failed');
  assert.equal(f!.Status, '5.4.7');
  assert.equal(f!['Diagnostic-Code'], 'X-Relaygate; 550 5.4.7 Delivery time expired after 24 hours; last error: 451 4.2.0 mailbox busy');
});

test('never a DSN for a null sender; NOTIFY=NEVER suppresses it too', async () => {
  await setup();
  await h.receiver(1, { rcpt: () => ({ code: 550, text: '5.1.1 unknown' }) });
  const sender = await h.receiver(2);
  const service = h.makeService();
  await h.enqueue({ from: '', to: ['bob@remote.test'], headerFrom: 'mailer@contoso.test' });
  await h.enqueue({ from: 'alice@contoso.test', to: [{ address: 'carol@remote.test', notify: 'NEVER' }] });
  const pass = await service.runOnce();
  assert.deepEqual({ failed: pass.failed, dsns: pass.dsns }, { failed: 2, dsns: 0 });
  assert.deepEqual((await h.recipients()).map((r) => r.dsn_status), [], 'both messages are finished and removed');
  await service.runOnce();
  assert.equal(sender.messages.length, 0);
});

test('a recipient refused at end of DATA under the legacy rule set gets its DSN', async () => {
  await setup();
  const remote = await h.receiver(1);
  const sender = await h.receiver(2);
  const service = h.makeService();
  await h.enqueue({
    from: 'alice@contoso.test',
    to: ['bob@remote.test', { address: 'eve@elsewhere.test', state: 'failed', dsnStatus: 'owed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied' }],
  });
  await service.runOnce();
  await service.runOnce();
  assert.deepEqual(remote.messages[0]!.recipients.map((r) => r.address), ['bob@remote.test']);
  assert.equal(sender.messages.length, 1);
  const [, eve] = statusFields(await parse(sender.messages[0]!));
  assert.equal(eve!['Final-Recipient'], 'rfc822; eve@elsewhere.test');
  assert.equal(eve!.Status, '5.7.64');
  assert.equal(eve!['Diagnostic-Code'], 'X-Relaygate; 550 5.7.64 TenantAttribution; Relay Access Denied');
});

test('null MX and NXDOMAIN fail at once; a silent DNS server defers', async () => {
  await setup();
  await h.receiver(2);
  h.dns.set('nullmx.test', { MX: [{ preference: 0, exchange: '.' }] }).set('slow.test', { silent: true });
  const service = h.makeService();
  await h.enqueue({ from: 'alice@contoso.test', to: ['a@nullmx.test', 'b@nowhere.test', 'c@slow.test'] });
  await service.runOnce();
  assert.deepEqual((await h.recipients()).filter((r) => r.address !== 'alice@contoso.test').map((r) => [r.address, r.state, r.last_reply]), [
    ['a@nullmx.test', 'failed', '556 5.1.10 Recipient address has null MX: nullmx.test does not accept mail (RFC 7505)'],
    ['b@nowhere.test', 'failed', '550 5.1.2 Host or domain name not found: nowhere.test (NXDOMAIN)'],
    ['c@slow.test', 'deferred', '451 4.4.3 DNS lookup of MX slow.test failed: ETIMEOUT'],
  ]);
});

test('when the first MX host cannot be reached the next one gets the message', async () => {
  await setup();
  h.dns.set('remote.test', { MX: [{ preference: 10, exchange: 'dead.remote.test' }, { preference: 20, exchange: 'backup.remote.test' }] })
    .set('dead.remote.test', { A: ['127.0.0.3'] })
    .set('backup.remote.test', { A: ['127.0.0.4'] });
  const backup = await h.receiver(4);
  const service = h.makeService();
  await h.enqueue({ from: 'alice@contoso.test', to: ['bob@remote.test'] });
  const pass = await service.runOnce();
  assert.equal(pass.delivered, 1);
  assert.equal(backup.messages.length, 1);
});
