/** `npm run bench`: every benchmark of the project, bounded in count; prints JSON lines. */
import { runPolicyBench } from './policy.js';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('policy')) {
  for (const tenants of [100, 10_000]) {
    console.log(JSON.stringify({ bench: 'policy', ...runPolicyBench(tenants, 100_000) }));
  }
}
