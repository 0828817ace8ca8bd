/**
 * Trace search latency over a generated history (test/support/trace-history.ts; 1,000,000 messages,
 * about 3.1 million events, by default) on SQLite: the first page (100 events, newest first) of each
 * filter the search takes, asked 40 times with varied values, p50 and p99 in milliseconds, through
 * the search service as `relaygate trace` calls it. Run alone:
 *   npm run build && node dist/bench/trace-search.js [messages]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStores } from '../src/app/stores.js';
import { TraceSearchService, type TraceSearchInput } from '../src/compliance/trace-search.js';
import {
  HISTORY_STEP_MS, HISTORY_T0, HISTORY_TENANTS, historyCertName, historyClientIp, historyEvents, historyRecipient, historySender,
} from '../test/support/trace-history.js';

const RUNS = 40;
const DAY = 86_400_000;

export interface TraceSearchBench {
  messages: number;
  events: number;
  writeSeconds: number;
  /** Filter: first page p50/p99 in ms. */
  firstPage: Record<string, { p50: number; p99: number }>;
  /** Paging through one tenant's whole history, 1,000 events a page: events per second. */
  pagingEventsPerSecond: number;
}

export async function runTraceSearchBench(messages: number): Promise<TraceSearchBench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaygate-bench-trace-'));
  const stores = openSqliteStores({ dataDir });
  try {
    let events = 0;
    const started = performance.now();
    for (let from = 0; from < messages; from += 10_000) {
      const batch = historyEvents(from, Math.min(messages, from + 10_000));
      await stores.trace.append(batch);
      events += batch.length;
    }
    const writeSeconds = (performance.now() - started) / 1000;
    const end = HISTORY_T0 + messages * HISTORY_STEP_MS;
    const service = new TraceSearchService(stores, { now: () => new Date(end) });
    const filters: Record<string, (i: number) => TraceSearchInput> = {
      none: () => ({}),
      tenant: (i) => ({ tenant: HISTORY_TENANTS[i % 3]! }),
      sender: (i) => ({ sender: historySender(i * 5) }),
      'sender domain': (i) => ({ sender: `@sender${i % 20}.example` }),
      recipient: (i) => ({ recipient: historyRecipient(i * 25) }),
      'recipient domain': (i) => ({ recipient: `dest${i % 50}.example` }),
      'message id': (i) => ({ messageId: `<m${Math.floor((i * messages) / RUNS)}@host.example>` }),
      'queue id': (i) => ({ queueId: `q${Math.floor((i * messages) / RUNS)}` }),
      'client ip': (i) => ({ clientIp: historyClientIp(1 + (i % 50)) }),
      connector: (i) => ({ connector: ['apps-0', 'printers-1', 'partners-0'][i % 3]! }),
      'certificate name': (i) => ({ certificateName: historyCertName(i % 10) }),
      status: (i) => ({ status: [['Failed'], ['Deferred'], ['Refused'], ['Failed', 'Deferred']][i % 4]! }),
      'reason (refused)': (i) => ({ status: ['Refused'], reason: ['nobody', 'hygiene', 'require-tls'][i % 3]! }),
      'rule set': () => ({ ruleSet: 'legacy' }),
      'time range (1 day, 30 days back)': (i) => ({ start: new Date(end - (30 - (i % 10)) * DAY).toISOString(), end: new Date(end - (29 - (i % 10)) * DAY).toISOString() }),
      'tenant + status + since 7d': (i) => ({ tenant: HISTORY_TENANTS[i % 3]!, status: ['Failed'], since: '7d' }),
      'recipient domain + range': (i) => ({ recipient: `dest${i % 50}.example`, start: new Date(end - 60 * DAY).toISOString(), end: new Date(end - 59 * DAY).toISOString() }),
    };
    const firstPage: TraceSearchBench['firstPage'] = {};
    for (const [name, input] of Object.entries(filters)) {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await service.search({ ...input(i), limit: 100 });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      firstPage[name] = { p50: round(times[Math.floor(RUNS * 0.5)]!), p99: round(times[Math.min(RUNS - 1, Math.ceil(RUNS * 0.99) - 1)]!) };
    }
    let paged = 0;
    const t = performance.now();
    let cursor: string | null = null;
    do {
      const page = await service.search({ tenant: HISTORY_TENANTS[2]!, cursor, limit: 1000 });
      paged += page.events.length;
      cursor = page.next;
    } while (cursor !== null);
    const pagingEventsPerSecond = Math.round(paged / ((performance.now() - t) / 1000));
    return { messages, events, writeSeconds: round(writeSeconds), firstPage, pagingEventsPerSecond };
  } finally {
    await stores.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const messages = Number(process.argv[2] ?? 1_000_000);
  console.log(JSON.stringify({ bench: 'trace-search', ...(await runTraceSearchBench(messages)) }, null, 1));
}
