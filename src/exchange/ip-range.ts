import ipaddr from 'ipaddr.js';
import { isJsonObject } from './powershell-json.js';

/**
 * Exchange's IPRange (SenderIPAddresses) to our address/CIDR texts. Exchange writes a range in one
 * of three forms: a single address, `address/length`, or `low-high`. A `low-high` range becomes the
 * smallest list of CIDR blocks covering exactly the same addresses. Serialized objects with
 * LowerBound/UpperBound (and CIDRLength) are read too. Returns null when the value is unreadable;
 * whether a range is acceptable (width, IPv6) is for the validator and the policy engine's warnings.
 */
export function ipRangeToCidrs(value: unknown): string[] | null {
  if (typeof value === 'string') return fromText(value.trim());
  if (isJsonObject(value)) return fromObject(value);
  return null;
}

function fromText(text: string): string[] | null {
  if (text.includes('/')) {
    const [addr, len] = text.split('/');
    if (!addr || !len || !/^\d{1,3}$/.test(len) || !isAddress(addr)) return null;
    const bits = ipaddr.parse(addr).kind() === 'ipv4' ? 32 : 128;
    return Number(len) <= bits ? [`${addr}/${Number(len)}`] : null;
  }
  const dash = text.indexOf('-');
  if (dash > 0) {
    const low = text.slice(0, dash).trim();
    const high = text.slice(dash + 1).trim();
    return isAddress(low) && isAddress(high) ? rangeToCidrs(low, high) : null;
  }
  return isAddress(text) ? [text] : null;
}

function fromObject(obj: Record<string, unknown>): string[] | null {
  const field = (name: string): unknown => obj[Object.keys(obj).find((k) => k.toLowerCase() === name) ?? ''];
  const low = addressText(field('lowerbound'));
  const high = addressText(field('upperbound'));
  if (!low || !high || !isAddress(low) || !isAddress(high)) return null;
  const cidr = field('cidrlength');
  if (typeof cidr === 'number' && low !== high) {
    const expected = fromText(`${low}/${cidr}`);
    const covered = rangeToCidrs(low, high);
    if (expected && covered && covered.length === 1) return expected;
  }
  return rangeToCidrs(low, high);
}

/** An IPvxAddress may serialize as its text or as an object carrying it. */
function addressText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (!isJsonObject(value)) return null;
  for (const key of Object.keys(value)) {
    if (/^(ipaddresstostring|address|value)$/i.test(key) && typeof value[key] === 'string') return value[key].trim();
  }
  return null;
}

function isAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || (ipaddr.IPv6.isValid(text) && !text.includes('%'));
}

function toBigInt(text: string): { value: bigint; bits: number } {
  const bytes = ipaddr.parse(text).toByteArray();
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { value, bits: bytes.length * 8 };
}

function fromBigInt(value: bigint, bits: number): string {
  const bytes: number[] = [];
  for (let i = bits / 8 - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  const addr = ipaddr.fromByteArray(bytes);
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

/** The minimal CIDR blocks covering low..high inclusive; null when the bounds are inverted or mixed. */
export function rangeToCidrs(lowText: string, highText: string): string[] | null {
  const low = toBigInt(lowText);
  const high = toBigInt(highText);
  if (low.bits !== high.bits || low.value > high.value) return null;
  const bits = low.bits;
  const out: string[] = [];
  let start = low.value;
  // Each step emits the largest aligned block starting at `start`; at most 2*bits blocks.
  for (let guard = 0; start <= high.value && guard < 2 * bits + 2; guard++) {
    let size = 0;
    while (size < bits && (start & ((1n << BigInt(size + 1)) - 1n)) === 0n && start + (1n << BigInt(size + 1)) - 1n <= high.value) {
      size++;
    }
    out.push(size === 0 ? fromBigInt(start, bits) : `${fromBigInt(start, bits)}/${bits - size}`);
    start += 1n << BigInt(size);
  }
  return out;
}
