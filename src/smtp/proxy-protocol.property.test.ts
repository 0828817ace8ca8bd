/**
 * Properties of the PROXY protocol reader over generated headers, written by an encoder made from
 * haproxy's specification (test/support/proxy-header.ts): every v1 and v2 header gives back its
 * source address (in the one canonical form the policy and the limits judge) and port and the exact
 * bytes it took; no prefix of one is taken for a header; arbitrary bytes give a header error or a
 * wait, never another failure; and the socket reader's answer does not depend on how the bytes
 * are cut into segments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { parseIpAddress } from '../core/ip-prefix.js';
import { fuzzParameters } from '../../test/support/fuzz.js';
import { proxyV1, proxyV2, proxyV2Signature } from '../../test/support/proxy-header.js';
import { ProxyHeaderError, parseProxyHeader, readProxyHeader } from './proxy-protocol.js';

const port = fc.integer({ min: 0, max: 65535 });
const v4Mapped = fc.ipV4().map((a) => `::ffff:${a}`);
const v6 = fc.oneof(fc.ipV6(), v4Mapped, fc.ipV6().map((a) => a.toUpperCase()));
const pair = fc.oneof(fc.tuple(fc.ipV4(), fc.ipV4()), fc.tuple(v6, v6));
const tlv = fc.record({ type: fc.integer({ min: 1, max: 0xff }), value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) });
const trailing = fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a));

/** A header as a proxy writes it, with what it claims. */
const header = fc.oneof(
  fc.tuple(pair, port, port).map(([[src, dst], sport, dport]) => ({ bytes: proxyV1(src, dst, sport, dport), src, sport })),
  fc.tuple(pair, port, port, fc.array(tlv, { maxLength: 3 })).map(([[src, dst], sport, dport, tlvs]) => ({ bytes: proxyV2({ src, dst, sport, dport, tlvs }), src, sport })),
);

test('every v1 and v2 header gives its source in canonical form, its port, and the exact bytes it took', () => {
  fc.assert(
    fc.property(header, trailing, ({ bytes, src, sport }, rest) => {
      const parsed = parseProxyHeader(Buffer.concat([bytes, rest]));
      assert.ok(parsed.done);
      assert.equal(parsed.consumed, bytes.length);
      // IPv4-mapped IPv6 is IPv4 (relay-policy.md §1), IPv6 in RFC 5952 form: what the policy, the
      // connection limits and the Received header all see.
      assert.deepEqual(parsed.source, { ip: parseIpAddress(src), port: sport });
    }),
    fuzzParameters(2000),
  );
});

test('no strict prefix of a header is taken for one: the reader waits for more', () => {
  fc.assert(
    fc.property(header, fc.nat(), ({ bytes }, cut) => {
      const prefix = bytes.subarray(0, cut % bytes.length);
      const parsed = parseProxyHeader(prefix);
      assert.deepEqual(parsed, { done: false }, `${bytes.length} bytes cut at ${prefix.length}`);
    }),
    fuzzParameters(2000),
  );
});

test('arbitrary bytes after a header start give a header error or a wait, never another failure, and never more than they hold', () => {
  const start = fc.constantFrom(Buffer.from('PROXY '), Buffer.from('PROXY TCP4 '), Buffer.from('PROXY TCP6 '), Buffer.from('PROXY UNKNOWN'), proxyV2Signature, Buffer.concat([proxyV2Signature, Buffer.from([0x21])]), Buffer.alloc(0));
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:- \r\nFPROXYTCP46UNKNOW'), maxLength: 64 }).map((s) => Buffer.from(s, 'latin1')),
  );
  fc.assert(
    fc.property(start, body, (head, tail) => {
      const input = Buffer.concat([head, tail]);
      let parsed;
      try {
        parsed = parseProxyHeader(input);
      } catch (err) {
        assert.ok(err instanceof ProxyHeaderError, `${String(err)} for ${input.toString('hex')}`);
        return;
      }
      if (!parsed.done) return;
      assert.ok(parsed.consumed <= input.length);
      if (parsed.source) {
        assert.equal(parseIpAddress(parsed.source.ip), parsed.source.ip, `a canonical address from ${input.toString('hex')}`);
        assert.ok(parsed.source.port >= 0 && parsed.source.port <= 65535);
      }
    }),
    fuzzParameters(5000),
  );
});

/** Sends `bytes` in the given segments to a fresh loopback socket; the server side reads the header. */
async function readOverSocket(bytes: Buffer, cuts: number[]): Promise<{ source: unknown; rest: Buffer }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    client.setNoDelay(true);
    const socket = await accepted;
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const segments = [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length)).filter((s) => s.length > 0);
    const writing = (async () => {
      for (const s of segments) {
        client.write(s);
        await new Promise((r) => setImmediate(r));
      }
      client.end();
    })();
    socket.resume();
    const source = await readProxyHeader(socket, 5000);
    const rest: Buffer[] = [];
    await writing;
    for await (const chunk of socket) rest.push(chunk as Buffer);
    client.destroy();
    return { source, rest: Buffer.concat(rest) };
  } finally {
    server.close();
  }
}

test('the socket reader gives the same source however the header is cut into segments, and leaves what follows it in the socket', async () => {
  await fc.assert(
    fc.asyncProperty(header, fc.array(fc.nat(), { maxLength: 4 }), ({ bytes, src, sport }, cuts) => {
      const after = Buffer.from('EHLO client.example\r\n');
      return readOverSocket(Buffer.concat([bytes, after]), cuts).then(({ source, rest }) => {
        assert.deepEqual(source, { ip: parseIpAddress(src), port: sport });
        assert.equal(rest.toString('latin1'), after.toString('latin1'));
      });
    }),
    fuzzParameters(60),
  );
});
