/**
 * What the metrics cost: the scrape (every gauge, the queue read from a real SQLite file) with
 * 10,000 and 100,000 recipients waiting, and one recorded decision (what a session adds per RCPT).
 * Run alone with `node dist/bench/metrics.js`, or from bench/run.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newQueueId } from '../src/queue/queue-id.js';
import { createMetrics } from '../src/observability/metrics.js';
import { openSqlite } from '../src/store/sqlite/database.js';
import { SqliteQueueStatsStore } from '../src/store/sqlite/queue-stats.js';
import { SqliteQueueStore } from '../src/store/sqlite/queue-store.js';
import type { AcceptedMessage } from '../src/store/ports.js';

export interface MetricsBenchResult {
  waitingRecipients: number;
  scrapeMs: number;
  decisionNs: number;
}

function message(i: number, recipients: number): AcceptedMessage {
  const receivedAt = Date.UTC(2026, 0, 1) + i;
  return {
    id: newQueueId(new Date(receivedAt)), tenantId: null, tenant: `t${i % 20}`, connector: 'apps', attribution: 'ip', directionality: 'Originating',
    mailFrom: 'app@contoso.example', envId: null, ret: null, bodyType: null, smtputf8: false, size: 1000, clientIp: '192.0.2.7', clientHelo: null,
    tls: null, headerFrom: null, subject: null, messageIdHeader: null, receivedAt,
    recipients: Array.from({ length: recipients }, (_, r) => ({
      address: `u${r}@remote${r % 7}.example`, domain: `remote${r % 7}.example`, notify: null, orcpt: null, state: 'queued' as const, lastReply: null, dsnStatus: null, verdict: 'relay' as const,
    })),
  };
}

export async function runMetricsBench(waiting: number, scrapes = 20, decisions = 200_000): Promise<MetricsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-bench-metrics-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    const queue = new SqliteQueueStore(db);
    const perMessage = 10;
    for (let i = 0; i < waiting / perMessage; i += 500) {
      await queue.commit({ messages: Array.from({ length: Math.min(500, waiting / perMessage - i) }, (_, k) => message(i + k, perMessage)), decisions: [] });
    }
    // Every scrape reads the queue (no reuse of the last reading).
    const metrics = createMetrics({ tenantLabelLimit: 50, queueStats: new SqliteQueueStatsStore(db), queueStatsMaxAgeMs: 0 });
    await metrics.registry.metrics();
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < scrapes; i++) await metrics.registry.metrics();
    const scrapeMs = Number(process.hrtime.bigint() - t0) / 1e6 / scrapes;
    const d = { verdict: 'relay', rule: 'relay', ruleSet: '2023-11', currentVerdict: 'relay', legacyVerdict: 'relay', tenant: 't1' };
    t0 = process.hrtime.bigint();
    for (let i = 0; i < decisions; i++) metrics.recorder.decision(d);
    const decisionNs = Number(process.hrtime.bigint() - t0) / decisions;
    return { waitingRecipients: waiting, scrapeMs: Math.round(scrapeMs * 10) / 10, decisionNs: Math.round(decisionNs) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  for (const waiting of [10_000, 100_000]) console.log(JSON.stringify({ bench: 'metrics', ...(await runMetricsBench(waiting)) }));
}
