/**
 * The trace search over a generated history (trace-history.ts), run by the SQLite and PostgreSQL
 * tests: every filter of the search service counted against the generated events themselves (the
 * expected counts are computed here from what was generated, not by the store), paged to the end
 * with the cursor; and paging stable while writes go on (no event twice, none skipped of those
 * that were there when the first page was read).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.js';
import type { DirectoryStore, StoredTraceEvent, TraceStore } from '../../src/store/ports.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { TraceSearchService, type TraceSearchInput } from '../../src/compliance/trace-search.js';
import {
  HISTORY_T0, HISTORY_TENANTS, historyCertName, historyClientIp, historyEvents, historyRecipient, historySender,
} from './trace-history.js';

export interface SearchStores {
  trace: TraceStore;
  directory: DirectoryStore;
  close(): Promise<void>;
}

const DAY = 86_400_000;
const BATCH_MESSAGES = 5_000;

export function traceSearchSuite(label: string, open: () => Promise<SearchStores>, messages: number): void {
  let stores: SearchStores;
  let all: TraceEvent[] = [];
  // Whatever its size, the history spans 35 days: more than Exchange Online's 10.
  const step = Math.floor((35 * DAY) / messages);
  const now = HISTORY_T0 + Math.floor((messages * step) / 2);
  const clock: Clock = { now: () => new Date(now) };
  let service: TraceSearchService;

  before(async () => {
    stores = await open();
    service = new TraceSearchService(stores, clock);
    for (let from = 0; from < messages; from += BATCH_MESSAGES) {
      const events = historyEvents(from, Math.min(messages, from + BATCH_MESSAGES), undefined, step);
      await stores.trace.append(events);
      all = all.concat(events);
    }
  });
  after(async () => {
    await stores?.close();
  });

  /** Every page to the end: the events, checked newest first and never twice. */
  async function everyPage(input: TraceSearchInput, limit = 10_000): Promise<StoredTraceEvent[]> {
    const seen: StoredTraceEvent[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1_000; pages++) {
      const page = await service.search({ ...input, cursor, limit });
      seen.push(...page.events);
      cursor = page.next;
      if (cursor === null) break;
    }
    assert.equal(cursor, null, 'the search ends');
    for (let i = 1; i < seen.length; i++) {
      const a = seen[i - 1]!;
      const b = seen[i]!;
      assert.ok(a.at > b.at || (a.at === b.at && a.id > b.id), `newest first at ${i}`);
    }
    return seen;
  }

  const lower = (s: string | null): string | null => (s === null ? null : s.toLowerCase());
  const domain = (s: string | null): string | null => (s === null || s === '' ? null : s.slice(s.lastIndexOf('@') + 1).toLowerCase());
  const start = HISTORY_T0 + 3 * DAY + 1234;
  const end = HISTORY_T0 + 5 * DAY + 17;
  const cases: ReadonlyArray<readonly [name: string, input: TraceSearchInput, expected: (e: TraceEvent) => boolean]> = [
    ['tenant (a removed tenant, by id)', { tenant: HISTORY_TENANTS[2]!.toLowerCase() }, (e) => e.tenantId === HISTORY_TENANTS[2]],
    ['sender address, in another case', { sender: historySender(7).toUpperCase() }, (e) => lower(e.sender) === historySender(7)],
    ['sender domain @', { sender: '@SENDER3.example' }, (e) => domain(e.sender) === 'sender3.example'],
    ['null sender <>', { sender: '<>' }, (e) => e.sender === ''],
    ['recipient address', { recipient: historyRecipient(321) }, (e) => e.recipient === historyRecipient(321)],
    ['recipient domain', { recipient: 'dest7.example' }, (e) => domain(e.recipient) === 'dest7.example'],
    ['Message-ID without brackets', { messageId: 'm12345@host.example' }, (e) => e.messageIdHeader === '<m12345@host.example>'],
    ['queue id', { queueId: 'q4242' }, (e) => e.queueId === 'q4242'],
    ['session id', { sessionId: 's777' }, (e) => e.sessionId === 's777'],
    ['client IP', { clientIp: historyClientIp(17) }, (e) => e.clientIp === historyClientIp(17)],
    ['connector, in another case', { connector: 'PARTNERS-1' }, (e) => e.connector === 'partners-1'],
    ['certificate name', { certificateName: historyCertName(4) }, (e) => e.certName === historyCertName(4)],
    ['status Failed or Deferred', { status: ['failed', 'Deferred'] }, (e) => e.status === 'Failed' || e.status === 'Deferred'],
    ['refused for a reason', { status: ['Refused'], reason: 'require-tls' }, (e) => e.status === 'Refused' && e.reason === 'require-tls'],
    ['event kind', { event: ['deferred', 'refused'] }, (e) => e.kind === 'deferred' || e.kind === 'refused'],
    ['reason', { reason: 'remote-5xx' }, (e) => e.reason === 'remote-5xx'],
    ['rule set', { ruleSet: 'legacy' }, (e) => e.ruleSet === 'legacy'],
    ['start and end', { start: new Date(start).toISOString(), end: new Date(end).toISOString() }, (e) => e.at >= start && e.at < end],
    ['since a duration', { since: '2d' }, (e) => e.at >= now - 2 * DAY],
    [
      'tenant, status, recipient domain and range together',
      { tenant: HISTORY_TENANTS[1], status: ['Delivered'], recipient: '@dest3.example', start: new Date(HISTORY_T0 + DAY).toISOString() },
      (e) => e.tenantId === HISTORY_TENANTS[1] && e.status === 'Delivered' && domain(e.recipient) === 'dest3.example' && e.at >= HISTORY_T0 + DAY,
    ],
  ];

  test(`${label}: every filter over ${messages.toLocaleString('en-US')} generated messages finds exactly the events counted from the history`, async () => {
    assert.ok(all.length > messages * 3, `${all.length} events`);
    let widest = { rows: 0, days: 0 };
    for (const [name, input, expected] of cases) {
      const want = all.filter(expected);
      assert.ok(want.length > 0, `${name}: the history has some`);
      const got = await everyPage(input);
      assert.equal(got.length, want.length, name);
      assert.equal(new Set(got.map((e) => e.id)).size, got.length, `${name}: no event twice`);
      assert.ok(got.every(expected), `${name}: every event found matches`);
      if (got.length > widest.rows) widest = { rows: got.length, days: (got[0]!.at - got[got.length - 1]!.at) / DAY };
    }
    // Exchange Online stops at 5,000 rows and 10 days; this search does not.
    assert.ok(widest.rows > 5_000 && widest.days > 10, JSON.stringify(widest));
    const cpu = process.cpuUsage();
    console.log(`# ${label}: ${all.length} events; process CPU so far ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`);
  });

  test(`${label}: paging stays stable while events are written: none twice, none of those present at the start skipped`, async () => {
    const input: TraceSearchInput = { connector: 'partners-0' };
    const present = new Set((await everyPage(input)).map((e) => e.id));
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let round = 0; writing && round < 200; round++) {
        // Newer events, and events back in the middle of the history, that match the search.
        const newer = historyEvents(messages + round * 50, messages + round * 50 + 50, 99, step);
        const older = historyEvents(round * 50, round * 50 + 50, 7, step).map((e) => ({ ...e, at: e.at + 1 }));
        await stores.trace.append([...newer, ...older].map((e) => ({ ...e, connector: 'partners-0' })));
        written += 100;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const seen: number[] = [];
    let cursor: string | null = null;
    try {
      do {
        const page = await service.search({ ...input, cursor, limit: 500 });
        seen.push(...page.events.map((e) => e.id));
        cursor = page.next;
        await new Promise((resolve) => setImmediate(resolve));
      } while (cursor !== null);
    } finally {
      writing = false;
      await writer;
    }
    assert.ok(written > 0, 'writes happened while paging');
    assert.equal(new Set(seen).size, seen.length, 'no event twice');
    const missing = [...present].filter((id) => !seen.includes(id));
    assert.deepEqual(missing.length, 0, `skipped: ${missing.slice(0, 5).join(', ')}`);
  });
}
