/**
 * The units relaygate.yaml speaks: sizes ("36MB"), durations ("1m") and listen addresses
 * ("127.0.0.1:2525", "[::1]:2525"). Each parser returns null for input it does not understand so the
 * schema can name the field in its message.
 */
import ipaddr from 'ipaddr.js';

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes from a non-negative integer or "<n><B|KB|MB|GB>" (binary multiples, case-insensitive). */
export function parseSize(input: number | string): number | null {
  return parseWithUnits(input, SIZE_UNITS);
}

/** Milliseconds from a non-negative integer (already ms) or "<n><ms|s|m|h|d>". */
export function parseDuration(input: number | string): number | null {
  return parseWithUnits(input, DURATION_UNITS);
}

function parseWithUnits(input: number | string, units: Record<string, number>): number | null {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(input);
  if (!m) return /^\s*\d+\s*$/.test(input) ? Number(input) : null;
  const unit = units[m[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const value = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(value) ? value : null;
}

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[ipv6]:port"; the host is an IP address or a host name; port 0–65535. */
export function parseHostPort(input: string): HostPort | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(input) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(input);
  if (!m) return null;
  const host = m[1]!;
  const port = Number(m[2]);
  if (port > 65535) return null;
  const bracketed = input.startsWith('[');
  if (bracketed && !ipaddr.IPv6.isValid(host)) return null;
  return { host, port };
}
