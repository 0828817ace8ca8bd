/**
 * `npm run bench -- peers [options]`: the same workload against relaygate and, when
 * ../shared/bench/setup-peers.sh installed them, Postfix and Haraka's durable outbound queue, in
 * one run on this machine. Per scenario and row: accepted and end-to-end messages per second,
 * p50/p99 transaction latency, peak RSS, and the ratios to Postfix. Loopback only; every load is
 * bounded by a message count and a deadline. See docs/benchmarks.md and docs/performance.md.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openIdleSessions, quantile, runLoad } from './smtp-load.js';
import { RssSampler } from './process-rss.js';
import { Sink } from './sink.js';
import { peerInstalled, TARGETS, waitListening, type RunOptions, type Target } from './targets.js';

interface Scenario {
  name: string;
  what: string;
  rcpts: number;
  size: number;
  sessions: number;
  dkim: boolean;
  /** Messages per run, full and --quick. */
  messages: [number, number];
  /** 'idle': open this many sessions and hold them instead of sending. */
  idle?: number;
  /** Messages queued (deferred) before relaygate starts, full and --quick. */
  prefill?: [number, number];
}

const KB = 1024;
export const SCENARIOS: readonly Scenario[] = [
  { name: 'base', what: '1 rcpt, 10 KB, 20 sessions', rcpts: 1, size: 10 * KB, sessions: 20, dkim: false, messages: [10_000, 3_000] },
  { name: 'rcpt10', what: '10 rcpts, 10 KB, 20 sessions', rcpts: 10, size: 10 * KB, sessions: 20, dkim: false, messages: [3_000, 1_000] },
  { name: 'size1m', what: '1 rcpt, 1 MB, 20 sessions', rcpts: 1, size: 1024 * KB, sessions: 20, dkim: false, messages: [400, 100] },
  { name: 'sess500', what: '1 rcpt, 10 KB, 500 sessions', rcpts: 1, size: 10 * KB, sessions: 500, dkim: false, messages: [10_000, 3_000] },
  { name: 'dkim', what: '1 rcpt, 10 KB, 20 sessions, DKIM (RSA-2048)', rcpts: 1, size: 10 * KB, sessions: 20, dkim: true, messages: [5_000, 1_500] },
  { name: 'idle1000', what: '1,000 idle sessions (EHLO, then nothing)', rcpts: 0, size: 0, sessions: 0, dkim: false, messages: [0, 0], idle: 1000 },
  {
    name: 'deepqueue',
    what: 'base load with a backlog already queued (deferred)',
    rcpts: 1,
    size: 10 * KB,
    sessions: 20,
    dkim: false,
    messages: [10_000, 3_000],
    prefill: [1_000_000, 100_000],
  },
];

interface Row {
  scenario: string;
  target: string;
  run: number;
  load: number;
  sent?: number;
  failed?: number;
  firstFailure?: string;
  acceptMps?: number;
  e2eMps?: number | null;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMb?: number;
  peakPssMb?: number;
  idleOpen?: number;
  prefill?: number;
  skipped?: string;
}

interface Options {
  quick: boolean;
  scenarios: string[];
  targets: string[];
  runs: number;
  messages?: number;
  prefill?: number;
  deadlineMs: number;
  pb: string;
  sinkPort: number;
}

function parseOptions(args: readonly string[]): Options {
  const o: Options = {
    quick: false,
    scenarios: ['base', 'rcpt10', 'size1m', 'sess500', 'dkim', 'idle1000', 'deepqueue'],
    targets: ['postfix', 'haraka-outq', 'relaygate'],
    runs: 1,
    deadlineMs: 300_000,
    pb: process.env.PB ?? '/tmp/peerbench',
    sinkPort: Number(process.env.SINK_PORT ?? 25251),
  };
  for (const arg of args) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=');
    const list = () => value.split(',').filter(Boolean);
    const num = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${key} needs a positive whole number, got "${value}"`);
      return n;
    };
    if (key === 'quick') o.quick = true;
    else if (key === 'scenarios') o.scenarios = list();
    else if (key === 'targets') o.targets = list();
    else if (key === 'runs') o.runs = num();
    else if (key === 'messages') o.messages = num();
    else if (key === 'prefill') o.prefill = num();
    else if (key === 'deadline') o.deadlineMs = num() * 1000;
    else throw new Error(`unknown option ${arg}; options: --quick --scenarios=${SCENARIOS.map((s) => s.name).join(',')} --targets=postfix,haraka-outq,relaygate,relaygate-pg --runs=N --messages=N --prefill=N --deadline=SECONDS`);
  }
  for (const s of o.scenarios) if (!SCENARIOS.some((x) => x.name === s)) throw new Error(`unknown scenario ${s}`);
  for (const t of o.targets) if (!TARGETS.some((x) => x.name === t)) throw new Error(`unknown target ${t}`);
  return o;
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const load1 = () => round(loadavg()[0]!, 2);

async function measure(o: Options, s: Scenario, t: Target, run: number, pgUrl: string | undefined, prefill: number): Promise<Row> {
  const runOptions: RunOptions = { sinkPort: o.sinkPort, pb: o.pb, dkim: s.dkim, prefill, ...(pgUrl && { pgUrl }) };
  const row: Row = { scenario: s.name, target: prefill ? `${t.name}+backlog` : t.name, run, load: load1(), ...(prefill && { prefill }) };
  const why = t.unsupported(runOptions);
  if (why) return { ...row, skipped: why };
  if (!(await waitListening(t.port, false, 15_000))) return { ...row, skipped: `port ${t.port} busy` };
  const sink = new Sink(o.sinkPort);
  await sink.start();
  const running = await t.start(runOptions);
  try {
    if (!(await waitListening(t.port, true, prefill ? 180_000 : 30_000))) return { ...row, skipped: `did not listen on ${t.port}` };
    const rss = new RssSampler(() => running.roots()).start();
    if (s.idle) {
      const idle = await openIdleSessions(t.port, s.idle, 3_000);
      await sleep(2_000);
      const peak = rss.stop();
      await idle.close();
      return { ...row, idleOpen: idle.open, peakRssMb: round(peak / 2 ** 20), peakPssMb: round(rss.peakPssBytes / 2 ** 20) };
    }
    const messages = o.messages ?? s.messages[o.quick ? 1 : 0];
    const started = Date.now();
    const result = await runLoad({ port: t.port, messages, sessions: s.sessions, size: s.size, recipients: s.rcpts, deadlineMs: o.deadlineMs });
    const arrived = result.sent > 0 && (await sink.waitFor(result.sent, started + o.deadlineMs));
    const e2eMs = Date.now() - started;
    const peak = rss.stop();
    return {
      ...row,
      sent: result.sent,
      failed: result.failed,
      ...(result.firstFailure !== undefined && { firstFailure: result.firstFailure }),
      acceptMps: round(result.sent / (result.elapsedMs / 1000)),
      e2eMps: arrived ? round(result.sent / (e2eMs / 1000)) : null,
      p50Ms: round(quantile(result.latencies, 0.5), 1),
      p99Ms: round(quantile(result.latencies, 0.99), 1),
      peakRssMb: round(peak / 2 ** 20),
      peakPssMb: round(rss.peakPssBytes / 2 ** 20),
    };
  } finally {
    await running.stop();
    await sink.stop();
    await waitListening(t.port, false, 15_000);
  }
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)];
}

function printTable(s: Scenario, rows: Row[]): void {
  const byTarget = new Map<string, Row[]>();
  for (const r of rows) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  const med = (t: string, f: (r: Row) => number | null | undefined) =>
    median((byTarget.get(t) ?? []).filter((r) => !r.skipped).map(f).filter((x): x is number => typeof x === 'number'));
  // Ratios to Postfix; in a backlog scenario, to relaygate on an empty queue.
  const base = s.prefill ? 'relaygate' : 'postfix';
  const postfixE2e = med(base, (r) => r.e2eMps);
  const postfixAcc = med(base, (r) => r.acceptMps);
  const ratio = (x: number | undefined, base: number | undefined) => (x !== undefined && base ? (x / base).toFixed(2) + 'x' : '-');
  console.log(`\n## ${s.name}: ${s.what}${rows.find((r) => r.prefill) ? ` (prefill ${rows.find((r) => r.prefill)!.prefill})` : ''}`);
  const fmt = (cols: (string | number | undefined)[]) => console.log(cols.map((c, i) => String(c ?? '-').padEnd(i === 0 ? 14 : 11)).join(' '));
  if (s.idle) fmt(['target', 'open', 'RSS MB', 'PSS MB', 'load']);
  else fmt(['target', 'accept/s', 'e2e/s', 'p50 ms', 'p99 ms', 'RSS MB', 'PSS MB', s.prefill ? 'e2e/empty' : 'e2e/pf', s.prefill ? 'acc/empty' : 'acc/pf', 'failed', 'load']);
  for (const [t, list] of byTarget) {
    const skipped = list.find((r) => r.skipped);
    if (skipped) {
      console.log(`${t.padEnd(14)} skipped: ${skipped.skipped}`);
      continue;
    }
    const load = list.map((r) => r.load).join('/');
    if (s.idle) fmt([t, med(t, (r) => r.idleOpen), med(t, (r) => r.peakRssMb), med(t, (r) => r.peakPssMb), load]);
    else {
      const e2e = med(t, (r) => r.e2eMps);
      const acc = med(t, (r) => r.acceptMps);
      const failed = list.reduce((n, r) => n + (r.failed ?? 0), 0);
      const timeouts = list.filter((r) => r.e2eMps === null).length;
      fmt([t, acc, e2e ?? 'timeout', med(t, (r) => r.p50Ms), med(t, (r) => r.p99Ms), med(t, (r) => r.peakRssMb), med(t, (r) => r.peakPssMb), ratio(e2e, postfixE2e), ratio(acc, postfixAcc), failed + (timeouts ? ` (${timeouts} timeout)` : ''), load]);
      const first = list.find((r) => r.firstFailure)?.firstFailure;
      if (first) console.log(`${''.padEnd(14)} first failure: ${first}`);
    }
  }
}

/**
 * One comparison at a time on a machine: two would share the sink's and the relays' ports. A run
 * that finds another waits for it (up to 20 minutes); a lock whose process is gone is taken over.
 */
async function takeLock(pb: string): Promise<() => void> {
  const lock = join(pb, 'compare.lock');
  const until = Date.now() + 20 * 60_000;
  for (let told = false; ; ) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
        process.kill(holder, 0);
      } catch {
        rmSync(lock, { force: true }); // a stale lock
        continue;
      }
      if (Date.now() > until) throw new Error(`another comparison (pid ${holder}) is still running; ${lock}`);
      if (!told) console.log(`waiting for the comparison running as pid ${holder} (${lock})`);
      told = true;
      await sleep(2_000);
    }
  }
}

export async function runPeerComparison(args: readonly string[]): Promise<void> {
  const o = parseOptions(args);
  const results = join(o.pb, 'results');
  mkdirSync(results, { recursive: true });
  const unlock = await takeLock(o.pb);
  try {
    await compare(o, results);
  } finally {
    unlock();
  }
}

async function compare(o: Options, results: string): Promise<void> {
  const file = join(results, `compare-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  const targets = TARGETS.filter((t) => o.targets.includes(t.name));
  const missing = targets.filter((t) => !peerInstalled(t, o.pb));
  for (const t of missing) console.log(`${t.name}: not installed (../shared/bench/setup-peers.sh), no row`);
  const present = targets.filter((t) => !missing.includes(t));
  let stopCluster: (() => void) | undefined;
  let pgUrl = process.env.RELAYGATE_BENCH_PG_URL;
  if (present.some((t) => t.name === 'relaygate-pg') && !pgUrl) {
    try {
      const { startThrowawayCluster } = await import('../../test/support/postgres-cluster.js');
      const cluster = await startThrowawayCluster(process.env, { durable: true });
      pgUrl = cluster.url;
      stopCluster = () => cluster.stop();
    } catch (err) {
      console.log(`relaygate-pg: no PostgreSQL (${err instanceof Error ? err.message : String(err)}), no row`);
    }
  }
  console.log(`peer comparison: ${o.quick ? 'quick' : 'full'}, ${o.runs} run(s), load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}; raw: ${file}`);
  try {
    for (const name of o.scenarios) {
      const s = SCENARIOS.find((x) => x.name === name)!;
      const rows: Row[] = [];
      // A backlog scenario runs relaygate on an empty queue and then on the backlog, side by side.
      const backlog = s.prefill ? (o.prefill ?? s.prefill[o.quick ? 1 : 0]) : 0;
      const plan = s.prefill
        ? present.filter((t) => t.name === 'relaygate').flatMap((t) => [{ t, prefill: 0 }, { t, prefill: backlog }])
        : present.map((t) => ({ t, prefill: 0 }));
      // Runs go round the rows (run 1 of every row, then run 2, ...), so a change in the machine's
      // load falls on every row rather than on whichever came last.
      const skipped = new Set<string>();
      for (let run = 1; run <= o.runs; run++) {
        for (const { t, prefill } of plan) {
          const key = `${t.name}/${prefill}`;
          if (skipped.has(key)) continue;
          const row = await measure(o, s, t, run, pgUrl, prefill);
          rows.push(row);
          appendFileSync(file, JSON.stringify(row) + '\n');
          console.error(JSON.stringify(row));
          if (row.skipped) skipped.add(key);
        }
      }
      printTable(s, rows);
    }
  } finally {
    stopCluster?.();
  }
  console.log(`\nload average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
