/**
 * PROXY protocol headers as a load balancer writes them (haproxy's proxy-protocol.txt), for tests
 * that speak as a trusted proxy or as someone pretending to be one. Written from the specification,
 * independently of src/smtp/proxy-protocol.ts, so the tests can check that parser against it.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The 12 bytes every v2 header starts with. */
export const proxyV2Signature = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** `PROXY TCP4|TCP6 src dst sport dport\r\n`, the family chosen from the source address. */
export function proxyV1(src: string, dst: string, sport = 40000, dport = 25): Buffer {
  const family = isIP(src) === 6 ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${family} ${src} ${dst} ${sport} ${dport}\r\n`, 'latin1');
}

/** v1's "the proxy does not know the client": the receiver uses the proxy's own address. */
export function proxyV1Unknown(): Buffer {
  return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
}

export interface ProxyV2Options {
  /** 0 LOCAL (health checks: use the proxy's address), 1 PROXY. */
  command?: number;
  /** Source and destination; both of one family. Omit for AF_UNSPEC. */
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** TLVs appended after the address block, as the proxy may send (e.g. PP2_TYPE_AUTHORITY). */
  tlvs?: Array<{ type: number; value: Buffer }>;
  /** Overrides for malformed headers: the version/command byte, the family/transport byte, the length field. */
  versionCommand?: number;
  familyTransport?: number;
  length?: number;
}

/** A binary v2 header. */
export function proxyV2(opts: ProxyV2Options = {}): Buffer {
  const command = opts.command ?? 1;
  let address = Buffer.alloc(0);
  let familyTransport = 0x00;
  if (opts.src !== undefined && opts.dst !== undefined) {
    const src = ipaddr.parse(opts.src);
    const dst = ipaddr.parse(opts.dst);
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(opts.sport ?? 40000, 0);
    ports.writeUInt16BE(opts.dport ?? 25, 2);
    address = Buffer.concat([Buffer.from(src.toByteArray()), Buffer.from(dst.toByteArray()), ports]);
    familyTransport = src.kind() === 'ipv6' ? 0x21 : 0x11;
  }
  const tlvs = (opts.tlvs ?? []).map(({ type, value }) => {
    const head = Buffer.alloc(3);
    head[0] = type;
    head.writeUInt16BE(value.length, 1);
    return Buffer.concat([head, value]);
  });
  const body = Buffer.concat([address, ...tlvs]);
  const head = Buffer.alloc(4);
  head[0] = opts.versionCommand ?? 0x20 | command;
  head[1] = opts.familyTransport ?? familyTransport;
  head.writeUInt16BE(opts.length ?? body.length, 2);
  return Buffer.concat([proxyV2Signature, head, body]);
}
