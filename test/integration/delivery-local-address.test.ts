/**
 * Delivery never connects to a loopback, unspecified or link-local address that came from MX/A/AAAA
 * resolution or from an address-literal recipient: such mail loops back here, so it fails at once,
 * permanently, with 554 5.4.6 and a DSN. Routes in the configuration stay allowed, and
 * delivery.allowLocalAddresses (the lab switch the other delivery tests use) turns the check off.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { DeliveryHarness } from './delivery-harness.js';
import type { ReceivedMessage, SmtpReceiver } from '../support/smtp-receiver.js';
import type { DeliveryDeps } from '../../src/app/delivery.js';

let h: DeliveryHarness;
afterEach(async () => {
  await h.stop();
});

/**
 * The usual remote.test zone (MX → 127.0.0.1, the receiver) plus hostile zones, and the sender's
 * domain contoso.test reached through a configured route to 127.0.0.2 (where its DSNs arrive).
 */
async function setup(): Promise<{ remote: SmtpReceiver; senderMx: SmtpReceiver }> {
  h = await DeliveryHarness.started();
  h.dns
    .set('six.test', { MX: [{ preference: 10, exchange: 'mx.six.test' }] })
    .set('mx.six.test', { AAAA: ['::1'] })
    .set('mapped.test', { MX: [{ preference: 10, exchange: 'mx.mapped.test' }] })
    .set('mx.mapped.test', { AAAA: ['::ffff:127.0.0.1'] })
    .set('nowhere.test', { MX: [{ preference: 10, exchange: 'zero.nowhere.test' }, { preference: 20, exchange: 'link.nowhere.test' }] })
    .set('zero.nowhere.test', { A: ['0.0.0.0'] })
    .set('link.nowhere.test', { A: ['169.254.169.254'], AAAA: ['fe80::1'] })
    .set('implicit.test', { A: ['127.0.0.1'] });
  const remote = await h.receiver(1);
  const senderMx = await h.receiver(2);
  return { remote, senderMx };
}

function service(allowLocalAddresses: boolean | undefined): ReturnType<DeliveryHarness['makeService']> {
  const delivery: DeliveryDeps['delivery'] = {
    retry: [60_000],
    expireAfter: 24 * 3_600_000,
    delayNotifyAfter: 4 * 3_600_000,
    dns: { servers: [h.dnsAddress], timeout: 1_000 },
    routes: [{ domains: ['contoso.test', 'routed.test'], host: '127.0.0.2', port: h.port, tls: 'none' }],
    ...(allowLocalAddresses === undefined ? {} : { allowLocalAddresses }),
  };
  return h.makeService({ delivery });
}

/** Final-Recipient → [Status, Diagnostic-Code] of each recipient block of a DSN. */
async function dsnVerdicts(dsn: ReceivedMessage): Promise<Record<string, [string | undefined, string | undefined]>> {
  const mail = await simpleParser(dsn.body, { keepDeliveryStatus: true });
  const part = mail.attachments.find((a) => a.contentType === 'message/delivery-status');
  assert.ok(part, 'the DSN has a message/delivery-status part');
  const blocks = part.content.toString().trim().split(/\r?\n\r?\n/).slice(1);
  return Object.fromEntries(
    blocks.map((block) => {
      const f = Object.fromEntries(block.split(/\r?\n/).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      return [String(f['Final-Recipient']).replace(/^rfc822; /, ''), [f['Status'], f['Diagnostic-Code']]];
    }),
  );
}

const loop = (domain: string, addresses: string): string =>
  `554 5.4.6 Mail for ${domain} loops back to myself: its mail servers resolve only to local addresses (${addresses})`;

test('MX and A records pointing at loopback, unspecified or link-local addresses: failed 554 5.4.6 at once, with a DSN, nothing connected', async () => {
  const { remote, senderMx } = await setup();
  const s = service(undefined);
  await h.enqueue({ from: 'alice@contoso.test', to: ['bob@remote.test', 'c@six.test', 'd@mapped.test', 'e@nowhere.test', 'f@implicit.test'] });

  const pass = await s.runOnce();
  assert.deepEqual({ delivered: pass.delivered, failed: pass.failed, dsns: pass.dsns }, { delivered: 0, failed: 5, dsns: 1 }, 'all permanent at the first attempt');
  assert.equal(remote.connections, 0, 'nothing connected to the loopback receiver');

  // The DSN goes to the sender through the configured route (routes are exempt).
  await s.runOnce();
  assert.equal(senderMx.messages.length, 1);
  const dsn = senderMx.messages[0]!;
  assert.deepEqual(dsn.recipients.map((r) => r.address), ['alice@contoso.test']);
  const status = (domain: string, addresses: string): [string, string] => ['5.4.6', `X-Relaygate; ${loop(domain, addresses)}`];
  assert.deepEqual(await dsnVerdicts(dsn), {
    'bob@remote.test': status('remote.test', '127.0.0.1'),
    'c@six.test': status('six.test', '::1'),
    'd@mapped.test': status('mapped.test', '::ffff:127.0.0.1'),
    'e@nowhere.test': status('nowhere.test', '0.0.0.0, 169.254.169.254, fe80::1'),
    'f@implicit.test': status('implicit.test', '127.0.0.1'),
  });
});

test('an address-literal recipient naming loopback (accepted with limits.allowAddressLiterals) is refused the same way', async () => {
  const { senderMx } = await setup();
  const s = service(false);
  await h.enqueue({ from: 'alice@contoso.test', to: [{ address: 'user@[127.0.0.1]' }, { address: 'user@[IPv6:::1]' }] });
  const pass = await s.runOnce();
  assert.deepEqual({ failed: pass.failed, dsns: pass.dsns }, { failed: 2, dsns: 1 });
  await s.runOnce();
  assert.equal(senderMx.messages.length, 1, 'one DSN for both');
  const verdicts = await dsnVerdicts(senderMx.messages[0]!);
  assert.deepEqual(Object.values(verdicts).map(([, diagnostic]) => diagnostic?.replace(/^[^;]*; /, '')), [loop('[127.0.0.1]', '127.0.0.1'), loop('[ipv6:::1]', '::1')]);
});

test('a configured route to 127.0.0.2 is the operator\'s own and still delivers', async () => {
  const { senderMx } = await setup();
  const s = service(false);
  await h.enqueue({ from: 'alice@contoso.test', to: ['x@routed.test'] });
  const pass = await s.runOnce();
  assert.equal(pass.delivered, 1);
  assert.deepEqual(senderMx.messages.map((m) => m.recipients.map((r) => r.address)), [['x@routed.test']]);
});

test('delivery.allowLocalAddresses: true (lab setups, these tests) connects to what DNS says', async () => {
  const { remote } = await setup();
  const s = service(true);
  await h.enqueue({ from: 'alice@contoso.test', to: ['bob@remote.test'] });
  const pass = await s.runOnce();
  assert.equal(pass.delivered, 1);
  assert.equal(remote.messages.length, 1);
});
