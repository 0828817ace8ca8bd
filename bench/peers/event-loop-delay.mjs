// Preload for profiling a relay under the benchmark's load (RELAYGATE_BENCH_NODE_ARGS="--import
// ./bench/peers/event-loop-delay.mjs"): samples the event loop's delay and, when the process exits,
// appends its percentiles (ms) as one JSON line to $RELAYGATE_ELD_OUT (default /tmp/peerbench/eld.jsonl).
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
process.on('exit', () => {
  h.disable();
  const ms = (ns) => Number((ns / 1e6).toFixed(2));
  const line = { pid: process.pid, at: new Date().toISOString(), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };
  appendFileSync(process.env.RELAYGATE_ELD_OUT ?? '/tmp/peerbench/eld.jsonl', JSON.stringify(line) + '\n');
});
