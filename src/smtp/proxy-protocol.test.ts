import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyHeaderError, V2_SIGNATURE, looksLikeProxyHeader, parseProxyHeader } from './proxy-protocol.js';

function v2(command: number, famTransport: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = famTransport;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

test('v1 TCP4 and TCP6 give the source address and port and the bytes consumed', () => {
  const r = parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 40000 25\r\nEHLO x\r\n'));
  assert.deepEqual(r, { done: true, source: { ip: '203.0.113.7', port: 40000 }, consumed: 43 });
  const r6 = parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8::7 2001:db8::1 4000 25\r\n'));
  assert.deepEqual(r6.done && r6.source, { ip: '2001:db8::7', port: 4000 });
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { done: true, source: null, consumed: 15 });
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), { done: false });
});

test('v2 PROXY over TCP4/TCP6, LOCAL, and partial input', () => {
  const body4 = Buffer.from([198, 51, 100, 9, 192, 0, 2, 1, 0x9c, 0x40, 0, 25, 0xaa, 0xbb]);
  const h4 = v2(1, 0x11, body4);
  assert.deepEqual(parseProxyHeader(Buffer.concat([h4, Buffer.from([0x16, 0x03])])), { done: true, source: { ip: '198.51.100.9', port: 40000 }, consumed: h4.length });
  const body6 = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000042', 'hex').copy(body6, 0);
  body6.writeUInt16BE(1234, 32);
  const h6 = v2(1, 0x21, body6);
  assert.deepEqual(parseProxyHeader(h6), { done: true, source: { ip: '2001:db8::42', port: 1234 }, consumed: h6.length });
  assert.deepEqual(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0))), { done: true, source: null, consumed: 16 });
  assert.deepEqual(parseProxyHeader(h4.subarray(0, 20)), { done: false });
  assert.deepEqual(parseProxyHeader(V2_SIGNATURE.subarray(0, 5)), { done: false });
});

test('malformed headers are protocol errors', () => {
  const bad = [
    'EHLO client\r\n',
    'PROXY TCP4 999.1.1.1 1.2.3.4 1 2\r\n',
    'PROXY TCP4 1.2.3.4 1.2.3.4 70000 25\r\n',
    'PROXY TCP4 ::1 ::1 1 2\r\n',
    'PROXY SCTP 1.2.3.4 1.2.3.4 1 2\r\n',
    `PROXY TCP4 ${'1'.repeat(120)}`,
  ];
  for (const b of bad) assert.throws(() => parseProxyHeader(Buffer.from(b)), ProxyHeaderError, b);
  const v3 = Buffer.concat([V2_SIGNATURE, Buffer.from([0x31, 0x11, 0, 0])]);
  assert.throws(() => parseProxyHeader(v3), /unsupported PROXY protocol version/);
  assert.throws(() => parseProxyHeader(v2(1, 0x12, Buffer.alloc(12))), /only TCP/);
});

test('PROXY headers are recognised from their first bytes', () => {
  assert.ok(looksLikeProxyHeader(Buffer.from('PROXY TCP4 ')));
  assert.ok(looksLikeProxyHeader(V2_SIGNATURE));
  assert.ok(!looksLikeProxyHeader(Buffer.from('EHLO x\r\n')));
  assert.ok(!looksLikeProxyHeader(Buffer.from([0x16, 0x03, 0x01])));
});
