/**
 * `npm run bench [name ...]`: the project's in-process benchmarks, bounded in count; one JSON line
 * each. The side-by-side SMTP comparison with Postfix and Haraka is `npm run bench:peers`.
 */
import { runMessageTraceBench } from './message-trace.js';
import { runPolicyBench } from './policy.js';
import { runQuotaBench } from './quota.js';
import { runMetricsBench } from './metrics.js';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('policy')) {
  for (const tenants of [100, 10_000]) {
    console.log(JSON.stringify({ bench: 'policy', ...runPolicyBench(tenants, 100_000) }));
  }
}
if (want('message-trace')) {
  console.log(JSON.stringify({ bench: 'message-trace', ...(await runMessageTraceBench(1_000_000)) }));
}
if (want('quota')) {
  console.log(JSON.stringify({ bench: 'quota', ...(await runQuotaBench()) }));
}
if (want('metrics')) {
  for (const waiting of [10_000, 100_000]) console.log(JSON.stringify({ bench: 'metrics', ...(await runMetricsBench(waiting)) }));
}
