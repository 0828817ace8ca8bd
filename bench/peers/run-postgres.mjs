// The peer benchmark with relaygate on PostgreSQL beside SQLite (and the peers): one, two and three
// nodes on one database. Uses RELAYGATE_BENCH_PG_URL when set, else a throwaway cluster started
// here with fsync and synchronous commit on (a durable server, like SQLite's synchronous = FULL),
// removed when the run ends. Arguments go to run-peers.sh (e.g. -r 1 -m 5000 -R 1 -o postfix,relaygate,relaygate-pg-1).
// Run after `npm run build`, from the repository: node bench/peers/run-postgres.mjs [ARGS]
// (RELAYGATE_PEER_BENCH: the harness, when it is not at ../shared/bench/run-peers.sh).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = { ...process.env };
if (!env.RELAYGATE_BENCH_PG_URL) {
  const { startThrowawayCluster } = await import(pathToFileURL(resolve('dist/test/support/postgres-cluster.js')).href);
  env.RELAYGATE_BENCH_PG_URL = (await startThrowawayCluster(process.env, { durable: true })).url;
}
const rows = [
  '-t', 'relaygate|25260|exec ./bench/peers/start-relaygate.sh',
  ...[1, 2, 3].flatMap((n) => ['-t', `relaygate-pg-${n}|25270|exec ./bench/peers/start-relaygate-postgres.sh 25270 ${n}`]),
];
const harness = spawn(env.RELAYGATE_PEER_BENCH ?? resolve('../shared/bench/run-peers.sh'), [...rows, ...process.argv.slice(2)], { stdio: 'inherit', env });
harness.on('close', (code) => process.exit(code ?? 1));
