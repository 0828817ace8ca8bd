import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { openSqliteStores } from './stores.js';
import { TracePruner } from './trace-pruner.js';
import { sampleEvent } from '../store/trace-contract.js';
import { traceEventKinds, type TraceEventKind } from '../trace/events.js';

const DAY = 86_400_000;

test("serve's trace pruner removes what is past retention in bounded batches, letting the event loop run between them", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-trace-pruner-'));
  const stores = openSqliteStores({ dataDir: dir });
  try {
    const now = Date.UTC(2026, 5, 1);
    // 2,500 refusals 10 days old (past a 7-day retention), 500 deliveries as old (kept 30 days), 100 fresh refusals.
    await stores.trace.append([
      ...Array.from({ length: 2_500 }, (_, i) => sampleEvent('refused', { at: now - 10 * DAY + i })),
      ...Array.from({ length: 500 }, (_, i) => sampleEvent('delivered', { at: now - 10 * DAY + i })),
      ...Array.from({ length: 100 }, (_, i) => sampleEvent('refused', { at: now - DAY + i })),
    ]);
    const retention = { ...Object.fromEntries(traceEventKinds.map((k) => [k, 30 * DAY])), refused: 7 * DAY } as Record<TraceEventKind, number>;
    const logged: string[] = [];
    const pruner = new TracePruner({ trace: stores.trace, retention, clock: new ManualClock(new Date(now)), intervalMs: 3_600_000, batchSize: 200, log: (_l, m) => void logged.push(m) });
    // Something else wants the event loop meanwhile: it gets a turn between every two batches.
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const removed = await pruner.runOnce();
    ticking = false;
    assert.equal(removed, 2_500);
    assert.ok(turns >= 2_500 / 200 - 1, `the loop ran between batches (${turns} turns)`);
    const left = await stores.trace.search({}, { limit: 10_000 });
    assert.deepEqual(
      [left.events.filter((e) => e.kind === 'refused').length, left.events.filter((e) => e.kind === 'delivered').length],
      [100, 500],
    );
    assert.deepEqual(logged, ['trace retention: removed 2500 events past their retention']);
    assert.equal(await pruner.runOnce(), 0);
    await pruner.stop();
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
