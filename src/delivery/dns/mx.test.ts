import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDnsServer } from '../../../test/support/dns-server.js';
import { CachingDnsResolver } from './resolver.js';
import { resolveMxHosts, orderMx } from './mx.js';
import { DeliveryError } from '../outcome.js';
import { ManualClock } from '../../core/clock.js';

const dns = new TestDnsServer();
let server = '';
const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));

before(async () => {
  dns
    .set('multi.test', { MX: [
      { preference: 20, exchange: 'c.mx.test' },
      { preference: 10, exchange: 'a.mx.test' },
      { preference: 10, exchange: 'b.mx.test' },
    ] })
    .set('a.mx.test', { A: ['127.0.0.1'] })
    .set('b.mx.test', { A: ['127.0.0.2'], AAAA: ['::1'] })
    .set('c.mx.test', { AAAA: ['::1'] })
    .set('nomx.test', { A: ['127.0.0.3'], AAAA: ['::1'] })
    .set('nullmx.test', { MX: [{ preference: 0, exchange: '.' }] })
    .set('slow.test', { silent: true })
    .set('deadmx.test', { MX: [{ preference: 10, exchange: 'missing.mx.test' }] })
    .set('empty.test', {})
    .set('ttl.test', { A: ['127.0.0.9'], ttl: 30 });
  server = await dns.start();
});
after(() => dns.stop());

function resolver(timeoutMs = 2000): CachingDnsResolver {
  return new CachingDnsResolver({ servers: [server], timeoutMs, tries: 1 }, clock);
}

async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected DeliveryError, got ${String(err)}`);
    return `${err.failure.permanent ? 'permanent' : 'temporary'} ${err.failure.scope} ${err.message}`;
  }
  assert.fail('expected a failure');
}

test('MX hosts come in preference order, each with its IPv4 and IPv6 addresses', async () => {
  const hosts = await resolveMxHosts(resolver(), 'multi.test', () => 0.99);
  assert.deepEqual(hosts.map((h) => [h.preference, h.name]), [[10, 'a.mx.test'], [10, 'b.mx.test'], [20, 'c.mx.test']]);
  assert.deepEqual(hosts[1]!.addresses, [{ address: '127.0.0.2', family: 4 }, { address: '::1', family: 6 }]);
  assert.deepEqual(hosts[2]!.addresses, [{ address: '::1', family: 6 }]);
});

test('equal preferences are shuffled by the injected random source', async () => {
  const hosts = await resolveMxHosts(resolver(), 'multi.test', () => 0);
  assert.deepEqual(hosts.map((h) => h.name), ['b.mx.test', 'a.mx.test', 'c.mx.test']);
  const records = [1, 2, 3, 4].map((i) => ({ exchange: `h${i}`, priority: 5 }));
  assert.deepEqual(orderMx(records, () => 0.99).map((r) => r.exchange), ['h1', 'h2', 'h3', 'h4']);
  assert.deepEqual(orderMx(records, () => 0).map((r) => r.exchange), ['h2', 'h3', 'h4', 'h1']);
});

test('no MX record: the domain itself is the host (A and AAAA)', async () => {
  const hosts = await resolveMxHosts(resolver(), 'nomx.test', Math.random);
  assert.deepEqual(hosts, [{ name: 'nomx.test', preference: 0, addresses: [{ address: '127.0.0.3', family: 4 }, { address: '::1', family: 6 }] }]);
});

test('null MX fails permanently with 556 5.1.10', async () => {
  assert.equal(
    await failureOf(resolveMxHosts(resolver(), 'nullmx.test', Math.random)),
    'permanent message 556 5.1.10 Recipient address has null MX: nullmx.test does not accept mail (RFC 7505)',
  );
});

test('NXDOMAIN fails permanently with 550 5.1.2', async () => {
  assert.equal(
    await failureOf(resolveMxHosts(resolver(), 'nowhere.test', Math.random)),
    'permanent message 550 5.1.2 Host or domain name not found: nowhere.test (NXDOMAIN)',
  );
});

test('a name with no MX and no address records is a temporary failure', async () => {
  assert.equal(
    await failureOf(resolveMxHosts(resolver(), 'empty.test', Math.random)),
    'temporary host 451 4.4.4 No address found for empty.test (no MX, A or AAAA records)',
  );
});

test('MX hosts that do not resolve are a temporary failure naming them', async () => {
  assert.equal(
    await failureOf(resolveMxHosts(resolver(), 'deadmx.test', Math.random)),
    'temporary host 451 4.4.4 No address found for the MX hosts of deadmx.test (missing.mx.test)',
  );
});

test('a DNS server that does not answer is a temporary failure (timeout)', async () => {
  assert.equal(
    await failureOf(resolveMxHosts(resolver(200), 'slow.test', Math.random)),
    'temporary host 451 4.4.3 DNS lookup of MX slow.test failed: ETIMEOUT',
  );
});

test('answers are cached for their TTL on the injected clock', async () => {
  const r = resolver();
  const count = (): number => dns.queries.filter((q) => q.name === 'ttl.test').length;
  const first = await r.addresses('ttl.test');
  const n = count();
  assert.deepEqual(first, { kind: 'records', records: [{ address: '127.0.0.9', family: 4 }] });
  await r.addresses('ttl.test');
  assert.equal(count(), n, 'second lookup within the TTL is served from the cache');
  clock.advance(31_000);
  await r.addresses('ttl.test');
  assert.equal(count(), n + 2, 'after the TTL both A and AAAA are asked again');
});
