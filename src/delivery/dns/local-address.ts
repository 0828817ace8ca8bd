import ipaddr from 'ipaddr.js';

/**
 * Addresses that are this machine or its link, never another mail server: loopback (127.0.0.0/8,
 * ::1), unspecified (0.0.0.0/8, ::, which Linux connects to this host) and link-local
 * (169.254.0.0/16, fe80::/10). IPv4-mapped IPv6 counts as its IPv4 address.
 */
const LOCAL_RANGES: ReadonlySet<string> = new Set(['loopback', 'unspecified', 'linkLocal']);

export function isLocalAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return LOCAL_RANGES.has(ipaddr.process(address).range());
}
