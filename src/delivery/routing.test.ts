import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute, planNextHop, selectRoute, type Route, type RoutingSettings } from './routing.js';
import type { Answer, AddressRecord, DnsLookup, MxRecord } from './dns/resolver.js';
import { DeliveryError } from './outcome.js';
import { isLocalAddress } from './dns/local-address.js';

const route = (host: string, domains: string[]): Route => ({ domains, host, port: 25, tls: 'none' });

test('exact domains beat wildcards, longer wildcards beat shorter, `*.d` does not match d itself', () => {
  const routes = [route('any', ['*']), route('org', ['*.example.org']), route('deep', ['*.sub.example.org']), route('exact', ['a.sub.example.org'])];
  assert.equal(matchRoute(routes, 'a.sub.example.org')?.host, 'exact');
  assert.equal(matchRoute(routes, 'b.sub.example.org')?.host, 'deep');
  assert.equal(matchRoute(routes, 'x.example.org')?.host, 'org');
  assert.equal(matchRoute(routes, 'example.org')?.host, 'any');
  assert.equal(matchRoute([route('org', ['*.example.org'])], 'example.org'), null);
});

test("a tenant's own route wins over the server's", () => {
  const settings = { serverRoutes: [route('server', ['example.com'])], tenantRoutes: { routesFor: (t: string) => (t === 'contoso' ? [route('tenant', ['*'])] : []) } };
  assert.equal(selectRoute(settings, 'contoso', 'example.com')?.host, 'tenant');
  assert.equal(selectRoute(settings, 'fabrikam', 'example.com')?.host, 'server');
  assert.equal(selectRoute(settings, null, 'other.com'), null);
});

/** A DnsLookup from a table, for the routing rules alone (the real resolver is tested on a DNS server). */
function table(mx: Record<string, MxRecord[]>, addresses: Record<string, AddressRecord[]>): DnsLookup {
  return {
    mx: async (d): Promise<Answer<MxRecord>> => (mx[d] ? { kind: 'records', records: mx[d] } : { kind: 'nodata' }),
    addresses: async (h): Promise<Answer<AddressRecord>> => (addresses[h] ? { kind: 'records', records: addresses[h] } : { kind: 'nxdomain' }),
  };
}

function settings(dns: DnsLookup, over: Partial<RoutingSettings> = {}): RoutingSettings {
  return { serverRoutes: [], tenantRoutes: { routesFor: () => [] }, dns, random: () => 0.99, mxPort: 2525, ...over };
}

test('MX plan: hosts in order, IPv6 before IPv4 unless told otherwise, opportunistic TLS', async () => {
  const dns = table(
    { 'remote.test': [{ exchange: 'b.mx', priority: 20 }, { exchange: 'a.mx', priority: 10 }] },
    { 'a.mx': [{ address: '192.0.2.1', family: 4 }, { address: '2001:db8::1', family: 6 }], 'b.mx': [{ address: '192.0.2.2', family: 4 }] },
  );
  const plan = await planNextHop(settings(dns), 'contoso', 'Remote.Test');
  assert.equal(plan.key, 'mx:remote.test');
  assert.deepEqual(plan.hops.map((h) => [h.name, h.address, h.port, h.tls]), [
    ['a.mx', '2001:db8::1', 2525, 'opportunistic'],
    ['a.mx', '192.0.2.1', 2525, 'opportunistic'],
    ['b.mx', '192.0.2.2', 2525, 'opportunistic'],
  ]);
  const v4 = await planNextHop(settings(dns, { preferIPv4: true }), null, 'remote.test');
  assert.deepEqual(v4.hops.map((h) => h.address), ['192.0.2.1', '2001:db8::1', '192.0.2.2']);
});

test('a route to an IP literal needs no DNS; its key groups recipients of all its domains', async () => {
  const r: Route = { domains: ['a.test', 'b.test'], host: '192.0.2.9', port: 587, tls: 'required', auth: { user: 'u', pass: 'p' } };
  const s = settings(table({}, {}), { serverRoutes: [r] });
  const a = await planNextHop(s, 'contoso', 'a.test');
  const b = await planNextHop(s, 'contoso', 'b.test');
  assert.equal(a.key, b.key);
  assert.deepEqual(a.hops, [{ name: '192.0.2.9', address: '192.0.2.9', port: 587, tls: 'required', auth: { user: 'u', pass: 'p' }, clientCert: null }]);
});

test('when this relay is an MX of the domain, it and every less preferred host are dropped; alone it is a loop', async () => {
  const dns = table(
    { 'loop.test': [{ exchange: 'relay.test', priority: 10 }], 'backup.test': [{ exchange: 'primary.mx', priority: 5 }, { exchange: 'relay.test', priority: 10 }, { exchange: 'worse.mx', priority: 20 }] },
    { 'relay.test': [{ address: '192.0.2.7', family: 4 }], 'primary.mx': [{ address: '192.0.2.5', family: 4 }], 'worse.mx': [{ address: '192.0.2.6', family: 4 }] },
  );
  const s = settings(dns, { ownNames: ['Relay.Test.'] });
  assert.deepEqual((await planNextHop(s, null, 'backup.test')).hops.map((h) => h.name), ['primary.mx']);
  await assert.rejects(planNextHop(s, null, 'loop.test'), (e: unknown) => e instanceof DeliveryError && e.message === '554 5.4.6 Mail for loop.test loops back to myself (this relay is its best MX)' && e.failure.permanent);
});

test('local addresses from DNS are dropped; the other hosts and addresses stay; none left is a 554 5.4.6 loop', async () => {
  const dns = table(
    { 'mixed.test': [{ exchange: 'lo.mx', priority: 10 }, { exchange: 'dual.mx', priority: 20 }], 'local.test': [{ exchange: 'lo.mx', priority: 10 }] },
    {
      'lo.mx': [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }],
      'dual.mx': [{ address: '169.254.0.9', family: 4 }, { address: '192.0.2.8', family: 4 }, { address: 'fe80::8', family: 6 }, { address: '2001:db8::8', family: 6 }],
    },
  );
  const plan = await planNextHop(settings(dns), null, 'mixed.test');
  assert.deepEqual(plan.hops.map((h) => [h.name, h.address]), [['dual.mx', '2001:db8::8'], ['dual.mx', '192.0.2.8']]);
  await assert.rejects(planNextHop(settings(dns), null, 'local.test'), (e: unknown) =>
    e instanceof DeliveryError && e.failure.permanent && e.failure.scope === 'message' &&
    e.message === '554 5.4.6 Mail for local.test loops back to myself: its mail servers resolve only to local addresses (127.0.0.1, ::1)');
  assert.deepEqual((await planNextHop(settings(dns, { allowLocalAddresses: true }), null, 'local.test')).hops.map((h) => h.address), ['::1', '127.0.0.1']);
  // A route naming a local host is the operator's choice.
  const routed = settings(dns, { serverRoutes: [route('127.0.0.1', ['local.test'])] });
  assert.deepEqual((await planNextHop(routed, null, 'local.test')).hops.map((h) => h.address), ['127.0.0.1']);
});

test('which addresses are local: loopback, unspecified, link-local, also IPv4-mapped', () => {
  const local = ['127.0.0.1', '127.255.0.1', '0.0.0.0', '0.1.2.3', '169.254.169.254', '::1', '::', 'fe80::1', '::ffff:127.0.0.1', '::ffff:169.254.1.1'];
  const remote = ['10.0.0.1', '192.168.1.1', '172.16.0.1', '192.0.2.1', '2001:db8::1', 'fd00::1', '::ffff:192.0.2.1', 'not an ip'];
  assert.deepEqual(local.filter((a) => !isLocalAddress(a)), []);
  assert.deepEqual(remote.filter((a) => isLocalAddress(a)), []);
});
