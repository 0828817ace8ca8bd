/**
 * Where a webhook may go. A target in a private, loopback, link-local, shared (CGNAT), unspecified,
 * multicast or reserved range is refused unless `webhooks.allowPrivateTargets` is on: a tenant must
 * not reach the relay's own network through it (SSRF). The rule is applied to the URL at subscribe
 * time, and again to the addresses the name resolves to at every connection (`guardedLookup`, the
 * socket connects only to an address that was checked), so a name that resolves to a public
 * address when subscribed and to 127.0.0.1 later (DNS rebinding) is refused when it matters.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { RelaygateError } from '../core/errors.js';
import { invalidField } from '../core/field-error.js';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, compatible ::a.b.c.d), if any. */
function embeddedIpv4(ip: string): string | null {
  const dotted = /^(?:::ffff:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return null;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for an address in one of the refused ranges. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(ip.toLowerCase());
  if (v4 !== null) return blocked.check(v4, 'ipv4');
  return blocked.check(ip, 'ipv6');
}

/** The URL's host without IPv6 brackets. */
export function targetHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A target URL as a subscription keeps it: http or https, a host, no credentials, at most 2048 characters. */
export function parseTargetUrl(text: string): URL {
  if (text.length > 2048) throw invalidField('url', 'a webhook URL has at most 2048 characters');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidField('url', `not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidField('url', `a webhook URL is http:// or https://, not ${url.protocol}//`);
  if (url.username !== '' || url.password !== '') throw invalidField('url', 'a webhook URL carries no user name or password: sign with the secret instead');
  if (url.hash !== '') throw invalidField('url', 'a webhook URL has no #fragment');
  return url;
}

export function privateTargetError(host: string, address: string): RelaygateError {
  return new RelaygateError(
    'invalid',
    `webhook target ${host} is ${address === host ? 'an address' : `at ${address}`} in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)`,
    { details: { field: 'url', host, address } },
  );
}

/** Resolves a name to every address it has. */
export type Resolve = (host: string) => Promise<string[]>;

export const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses.map((a) => a.address))));
  });

/** The subscribe-time check: an address literal, or every address the name resolves to, must be public. */
export async function checkTarget(url: URL, allowPrivate: boolean, resolve: Resolve = systemResolve): Promise<void> {
  if (allowPrivate) return;
  const host = targetHost(url);
  if (isIP(host) !== 0) {
    if (isPrivateAddress(host)) throw privateTargetError(host, host);
    return;
  }
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new RelaygateError('invalid', `webhook target ${host} does not resolve: ${(err as { code?: string }).code ?? String(err)}`, {
      details: { field: 'url', host }, cause: err,
    });
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) throw privateTargetError(host, bad);
}

/**
 * The `lookup` an HTTP request to a webhook uses: the name's addresses, all of them checked
 * unless private targets are allowed, so the connection goes only to an address that passed.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const bad = allowPrivate ? undefined : addresses.find(isPrivateAddress);
        if (bad !== undefined) {
          callback(Object.assign(privateTargetError(hostname, bad), { code: 'EPRIVATETARGET' }) as unknown as NodeJS.ErrnoException, '', 4);
          return;
        }
        const family = (a: string): number => isIP(a);
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => family(a) === options.family) : addresses;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 4);
          return;
        }
        if (options.all) {
          (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, wanted.map((a) => ({ address: a, family: family(a) })));
        } else {
          callback(null, wanted[0]!, family(wanted[0]!));
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };
}
