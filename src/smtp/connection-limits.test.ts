import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLimits, type ConnectionLimitSettings, type ConnectionSlot } from './connection-limits.js';

const base: ConnectionLimitSettings = {
  maxConnections: 3,
  maxConnectionsPerIp: 2,
  maxConnectionsPerNetwork: 100,
  networkPrefixV4: 24,
  networkPrefixV6: 64,
  reservedShare: 0,
  pressureThreshold: 1,
};

function slot(x: ConnectionSlot | string): ConnectionSlot {
  assert.equal(typeof x, 'object', `expected a slot, got ${String(x)}`);
  return x as ConnectionSlot;
}

test('limits count per IP and in total, and a release frees exactly one slot', () => {
  const l = new ConnectionLimits(base);
  const a1 = slot(l.acquire('192.0.2.1', true));
  slot(l.acquire('192.0.2.1', true));
  assert.equal(l.acquire('192.0.2.1', true), 'per-ip');
  slot(l.acquire('192.0.2.2', true));
  assert.equal(l.acquire('192.0.2.3', true), 'total');
  a1.release();
  assert.equal(l.open, 2);
  slot(l.acquire('192.0.2.3', true));
  a1.release();
  assert.equal(l.open, 3, 'a second release of the same slot changes nothing');
});

test('unattributed sources never take the reserved share; attributed ones may take every slot', () => {
  const l = new ConnectionLimits({ ...base, maxConnections: 10, maxConnectionsPerIp: 10, reservedShare: 0.2 });
  const strangers = Array.from({ length: 8 }, (_, i) => slot(l.acquire(`198.51.${i}.1`, false)));
  assert.equal(l.acquire('198.51.100.1', false), 'unattributed');
  slot(l.acquire('192.0.2.1', true));
  slot(l.acquire('192.0.2.1', true));
  assert.equal(l.acquire('192.0.2.1', true), 'total');
  strangers[0]!.release();
  slot(l.acquire('198.51.100.1', false));
  assert.equal(l.acquire('192.0.2.2', true), 'total', 'the total limit binds attributed sources too');
});

test('the per-network cap counts unattributed sources of one /24 or /64 only', () => {
  const l = new ConnectionLimits({ ...base, maxConnections: 100, maxConnectionsPerIp: 100, maxConnectionsPerNetwork: 2 });
  slot(l.acquire('203.0.113.1', false));
  slot(l.acquire('203.0.113.200', false));
  assert.equal(l.acquire('203.0.113.7', false), 'per-network');
  slot(l.acquire('203.0.114.7', false));
  slot(l.acquire('203.0.113.7', true));
  slot(l.acquire('2001:db8:0:1::1', false));
  slot(l.acquire('2001:db8:0:1:ffff::2', false));
  assert.equal(l.acquire('2001:db8:0:1::3', false), 'per-network');
  slot(l.acquire('2001:db8:0:2::3', false));
});

test('pressure is reported once per rise above the threshold, and the maps empty when all is released', () => {
  const l = new ConnectionLimits({ ...base, maxConnections: 10, maxConnectionsPerIp: 10, pressureThreshold: 0.2 });
  let rises = 0;
  l.onPressure(() => rises++);
  const a = slot(l.acquire('203.0.113.1', false));
  const b = slot(l.acquire('203.0.113.2', false));
  assert.equal(l.underPressure, false);
  const c = slot(l.acquire('192.0.2.1', true));
  assert.equal([l.underPressure, rises].join(), 'true,1');
  const d = slot(l.acquire('192.0.2.1', true));
  assert.equal(rises, 1);
  d.release();
  c.release();
  assert.equal(l.underPressure, false);
  const e = slot(l.acquire('192.0.2.1', true));
  assert.equal(rises, 2);
  for (const s of [a, b, e]) s.release();
  assert.deepEqual(l.tracked, { open: 0, unattributed: 0, addresses: 0, networks: 0 });
});
