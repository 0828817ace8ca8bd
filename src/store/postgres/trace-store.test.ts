import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { traceEventKinds, type TraceEventKind } from '../../trace/events.js';
import { sampleEvent } from '../trace-contract.js';
import { T0 } from '../queue-contract.js';
import { openPostgres } from './database.js';
import { DAY_MS, PgTraceStore } from './trace-store.js';

const database = testDatabase('trace');
const day = (n: number): number => Math.floor(T0 / DAY_MS) * DAY_MS + n * DAY_MS;
const partitionName = (n: number): string => `trace_events_p${new Date(day(n)).toISOString().slice(0, 10).replaceAll('-', '')}`;

test('postgres trace: events go to their day partition; retention drops the days past every retention whole and deletes the shorter-kept kinds by batch', async () => {
  const db = await openPostgres(await freshSchema(await database), { poolSize: 2 });
  const trace = new PgTraceStore(db);
  try {
    // An event written before its day's partition existed waits in the default partition and is moved into it.
    await trace.append([sampleEvent('delivered', { at: day(3) + 5 })]);
    assert.equal(await trace.ensurePartitions(day(0), day(9)), 10);
    assert.equal(await trace.ensurePartitions(day(0), day(9)), 0, 'made once');
    const where = async (): Promise<Array<[string, number]>> =>
      (await db.query<{ part: string; n: number }>('SELECT tableoid::regclass::text AS part, count(*)::bigint AS n FROM trace_events GROUP BY 1 ORDER BY 1')).rows.map((r) => [r.part, r.n]);
    assert.deepEqual(await where(), [[partitionName(3), 1]]);

    await trace.append([0, 1, 2, 4, 5, 6, 7, 8, 9].flatMap((n) => [sampleEvent('delivered', { at: day(n) + 1 }), sampleEvent('refused', { at: day(n) + 2 })]));
    const retention = { ...Object.fromEntries(traceEventKinds.map((k) => [k, 5 * DAY_MS])), refused: 2 * DAY_MS } as Record<TraceEventKind, number>;
    const now = day(9) + 12 * 3_600_000;
    // Days 0..3 end at or before now - 5 days (day 4 12:00): dropped whole, 7 events. Then by batch: the
    // delivery of day 4 (before day 4 12:00) and the refusals of days 4..7 (before day 7 12:00).
    assert.deepEqual(await trace.prune({ now, retention, batchSize: 2 }), { removed: 7 + 2, more: true });
    assert.deepEqual(await trace.prune({ now, retention, batchSize: 2 }), { removed: 2, more: true });
    assert.deepEqual(await trace.prune({ now, retention, batchSize: 2 }), { removed: 1, more: false });
    const partitions = (await trace.partitions()).map((p) => p.name);
    assert.ok(!partitions.includes(partitionName(3)) && partitions.includes(partitionName(4)), partitions.join(' '));
    assert.ok(partitions.includes(partitionName(16)), 'a week of partitions made ahead of now');
    const left = (await trace.search({}, { limit: 100 })).events.map((e) => `${e.kind}@${Math.floor((e.at - day(0)) / DAY_MS)}`).sort();
    assert.deepEqual(left, ['delivered@5', 'delivered@6', 'delivered@7', 'delivered@8', 'delivered@9', 'refused@8', 'refused@9']);
  } finally {
    await db.close();
  }
});
