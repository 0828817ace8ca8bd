/**
 * PROXY protocol v1 (text) and v2 (binary) headers, read before the SMTP session starts.
 *
 * Why our own parser: smtp-server's `useProxy` understands v1 only, while AWS NLB and HAProxy's
 * `send-proxy-v2` speak v2 only; and we must also place the header before an implicit-TLS
 * handshake. The header is honoured only from `proxy.trusted` peers, and from them it is required
 * (as with HAProxy/NLB, which always send it); from anyone else it is a protocol error.
 */
import { isIP, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RelaygateError } from '../core/errors.js';
import { parseIpAddress } from '../core/ip-prefix.js';

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_MAX = 107;
const V2_MAX_BODY = 2048;

export class ProxyHeaderError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'ProxyHeaderError';
  }
}

/** The client's address as the proxy saw it; `null` for v2 LOCAL / v1 UNKNOWN (use the peer's). */
export type ProxiedSource = { ip: string; port: number } | null;

/** True when the bytes begin like a PROXY header of either version. */
export function looksLikeProxyHeader(head: Buffer): boolean {
  if (head.length >= 6 && head.subarray(0, 6).toString('latin1') === 'PROXY ') return true;
  const n = Math.min(head.length, V2_SIGNATURE.length);
  return n >= 4 && head.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n));
}

type Parse = { done: false } | { done: true; source: ProxiedSource; consumed: number };

/** Parses a header from the start of `buf`; `done: false` when more bytes are needed. */
export function parseProxyHeader(buf: Buffer): Parse {
  if (buf.length === 0) return { done: false };
  if (buf[0] === 0x50) return parseV1(buf);
  if (buf[0] === 0x0d) return parseV2(buf);
  throw new ProxyHeaderError('no PROXY protocol header');
}

function parseV1(buf: Buffer): Parse {
  const end = buf.indexOf('\r\n');
  if (end < 0) {
    if (buf.length >= V1_MAX) throw new ProxyHeaderError('PROXY v1 header too long');
    return { done: false };
  }
  if (end + 2 > V1_MAX) throw new ProxyHeaderError('PROXY v1 header too long');
  const parts = buf.subarray(0, end).toString('latin1').split(' ');
  if (parts[0] !== 'PROXY') throw new ProxyHeaderError('no PROXY protocol header');
  if (parts[1] === 'UNKNOWN') return { done: true, source: null, consumed: end + 2 };
  const family = parts[1] === 'TCP4' ? 4 : parts[1] === 'TCP6' ? 6 : 0;
  if (!family || parts.length !== 6) throw new ProxyHeaderError('malformed PROXY v1 header');
  const [, , src, , sport] = parts as [string, string, string, string, string, string];
  if (isIP(src) !== family || isIP(parts[3]!) !== family) throw new ProxyHeaderError('malformed PROXY v1 address');
  const port = portOf(sport);
  if (port === null || portOf(parts[5]!) === null) throw new ProxyHeaderError('malformed PROXY v1 port');
  return { done: true, source: { ip: canonicalIp(src), port }, consumed: end + 2 };
}

function parseV2(buf: Buffer): Parse {
  const n = Math.min(buf.length, V2_SIGNATURE.length);
  if (!buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) throw new ProxyHeaderError('no PROXY protocol header');
  if (buf.length < 16) return { done: false };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) throw new ProxyHeaderError('unsupported PROXY protocol version');
  const command = verCmd & 0x0f;
  if (command > 1) throw new ProxyHeaderError('unknown PROXY v2 command');
  const length = buf.readUInt16BE(14);
  if (length > V2_MAX_BODY) throw new ProxyHeaderError('PROXY v2 header too long');
  if (buf.length < 16 + length) return { done: false };
  const consumed = 16 + length;
  if (command === 0) return { done: true, source: null, consumed }; // LOCAL: the proxy's own connection
  const family = buf[13]! >> 4;
  const transport = buf[13]! & 0x0f;
  if (family === 0 || transport === 0) return { done: true, source: null, consumed }; // UNSPEC
  if (transport !== 1) throw new ProxyHeaderError('PROXY v2: only TCP is supported');
  const body = buf.subarray(16, consumed);
  if (family === 1 && body.length >= 12) {
    const ip = [...body.subarray(0, 4)].join('.');
    return { done: true, source: { ip: canonicalIp(ip), port: body.readUInt16BE(8) }, consumed };
  }
  if (family === 2 && body.length >= 36) {
    const ip = ipaddr.fromByteArray([...body.subarray(0, 16)]).toString();
    return { done: true, source: { ip: canonicalIp(ip), port: body.readUInt16BE(32) }, consumed };
  }
  throw new ProxyHeaderError('malformed PROXY v2 address block');
}

/**
 * The client address in the one form the policy, the connection limits and the records use:
 * IPv4-mapped IPv6 as IPv4 (relay-policy.md §1), IPv6 in RFC 5952 form. A dual-stack proxy writes
 * `::ffff:192.0.2.10` in binary (or `::FFFF:C000:20A` in text): left as it was, the client would be
 * counted in one IPv6 /64 with every other IPv4 client behind the proxy.
 */
function canonicalIp(ip: string): string {
  const canonical = parseIpAddress(ip);
  if (canonical === null) throw new ProxyHeaderError('malformed PROXY address');
  return canonical;
}

function portOf(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

/**
 * Reads the PROXY header off a fresh socket, leaving any bytes after it (e.g. a TLS ClientHello)
 * in the socket for whoever reads next.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxiedSource> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new ProxyHeaderError('no PROXY header in time')), timeoutMs);
    const finish = (err: Error | null, source?: ProxiedSource, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      if (rest && rest.length) socket.unshift(rest);
      if (err) reject(err);
      else resolve(source ?? null);
    };
    const onEnd = () => finish(new ProxyHeaderError('connection closed before the PROXY header'));
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buf = Buffer.concat([buf, chunk]);
        let parsed: Parse;
        try {
          parsed = parseProxyHeader(buf);
        } catch (err) {
          return finish(err instanceof Error ? err : new Error(String(err)));
        }
        if (parsed.done) return finish(null, parsed.source, buf.subarray(parsed.consumed));
      }
    };
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}
