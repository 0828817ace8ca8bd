import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle } from './throttle.js';
import { ManualClock } from '../core/clock.js';

test('global and per-destination concurrency', () => {
  const t = new Throttle({ globalConcurrency: 3, perDestinationConcurrency: 2, perDestinationPerMinute: 0, perTenantPerMinute: 0 }, new ManualClock(new Date(0)));
  const a1 = t.acquireConnection('a.example');
  const a2 = t.acquireConnection('a.example');
  assert.ok(a1.ok && a2.ok);
  const a3 = t.acquireConnection('a.example');
  assert.equal(a3.ok, false);
  assert.equal(!a3.ok && a3.text, 'limit of 2 concurrent connections to a.example reached');
  const b1 = t.acquireConnection('b.example');
  assert.ok(b1.ok);
  const c1 = t.acquireConnection('c.example');
  assert.equal(!c1.ok && c1.text, 'global limit of 3 concurrent connections reached');
  if (a1.ok) {
    a1.slot.release();
    a1.slot.release(); // twice is harmless
  }
  assert.equal(t.activeConnections, 2);
  assert.ok(t.acquireConnection('a.example').ok);
});

test('per-destination and per-tenant message rates over a sliding minute', () => {
  const clock = new ManualClock(new Date(1_000_000));
  const t = new Throttle({ globalConcurrency: 10, perDestinationConcurrency: 10, perDestinationPerMinute: 2, perTenantPerMinute: 3 }, clock);
  assert.ok(t.admitMessage('x.example', 'contoso').ok);
  clock.advance(10_000);
  assert.ok(t.admitMessage('x.example', 'contoso').ok);
  const third = t.admitMessage('x.example', 'contoso');
  assert.deepEqual(third, { ok: false, limit: 'destination rate', retryAt: 1_060_000, text: 'rate limit of 2 messages per minute to x.example reached' });
  assert.ok(t.admitMessage('y.example', 'contoso').ok);
  const tenant = t.admitMessage('z.example', 'contoso');
  assert.equal(!tenant.ok && tenant.text, 'rate limit of 3 messages per minute for tenant contoso reached');
  assert.ok(t.admitMessage('z.example', 'fabrikam').ok, 'other tenants are not affected');
  clock.set(new Date(1_060_001));
  assert.ok(t.admitMessage('x.example', 'contoso').ok, 'the first message left the window');
});
