/**
 * IP ranges as the directory stores them: canonical CIDR text. A single address becomes /32 or /128,
 * host bits are cleared, IPv6 is written in RFC 5952 form, and IPv4-mapped IPv6 entries become IPv4
 * (relay-policy.md §1: mapped sources are matched as IPv4).
 */
import ipaddr from 'ipaddr.js';

/** Canonical CIDR text of an address or range (a single address becomes /32 or /128); null if malformed. */
export function canonicalCidr(input: string): string | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addrText)) addr = ipaddr.IPv4.parse(addrText);
  else if (ipaddr.IPv6.isValid(addrText) && !addrText.includes('%')) addr = ipaddr.IPv6.parse(addrText);
  else return null;
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) return null;
  let prefix = prefixText === null ? max : Number(prefixText);
  if (prefix > max) return null;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const network =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${prefix}`);
  const shown = network.kind() === 'ipv6' ? (network as ipaddr.IPv6).toRFC5952String() : network.toString();
  return `${shown}/${prefix}`;
}
