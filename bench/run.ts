/**
 * `npm run bench [name ...] [--option ...]`: the project's benchmarks, bounded in count. The
 * in-process ones (policy, message-trace, impact-report, quota, metrics, trace-search) print one JSON line each; `peers` is the
 * side-by-side SMTP comparison with Postfix and Haraka (bench/peers/compare.ts; its options, e.g.
 * `--quick --scenarios=base,rcpt10`, follow the names). No name: all of them.
 */
import { runMessageTraceBench } from './message-trace.js';
import { runImpactReportBench } from './impact-report.js';
import { runPolicyBench } from './policy.js';
import { runQuotaBench } from './quota.js';
import { runMetricsBench } from './metrics.js';
import { runTraceSearchBench } from './trace-search.js';
import { runPeerComparison } from './peers/compare.js';

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const options = args.filter((a) => a.startsWith('--'));
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('policy')) {
  for (const tenants of [100, 10_000]) {
    console.log(JSON.stringify({ bench: 'policy', ...runPolicyBench(tenants, 100_000) }));
  }
}
if (want('message-trace')) {
  console.log(JSON.stringify({ bench: 'message-trace', ...(await runMessageTraceBench(1_000_000)) }));
}
if (want('impact-report')) {
  console.log(JSON.stringify({ bench: 'impact-report', ...(await runImpactReportBench(1_000_000)) }));
}
if (want('quota')) {
  console.log(JSON.stringify({ bench: 'quota', ...(await runQuotaBench()) }));
}
if (want('metrics')) {
  for (const waiting of [10_000, 100_000]) console.log(JSON.stringify({ bench: 'metrics', ...(await runMetricsBench(waiting)) }));
}
if (want('trace-search')) {
  console.log(JSON.stringify({ bench: 'trace-search', ...(await runTraceSearchBench(1_000_000)) }));
}
if (want('peers')) {
  await runPeerComparison(options);
}
