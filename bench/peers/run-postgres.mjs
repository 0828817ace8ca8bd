// The peer benchmark with relaygate on PostgreSQL beside SQLite and Postfix, in one run of the shared
// harness: one, two and three nodes on one database. Uses RELAYGATE_BENCH_PG_URL when set, else a
// throwaway cluster started here with fsync and synchronous commit on (a durable server, like
// SQLite's synchronous = FULL), removed when the run ends. Arguments go to run-peers.sh (e.g. -r 1
// -m 5000 -R 1); without -o the rows are sink, postfix, relaygate and relaygate-pg-1..3.
// Run after `npm run build`, from the repository: node bench/peers/run-postgres.mjs [ARGS]
// (RELAYGATE_PEER_BENCH: the harness, when it is not at ../shared/bench/run-peers.sh of the
// repository or of the directory above a worktree). It holds $PB/compare.lock while it runs, as
// `npm run bench -- peers` does: two comparisons at once would share the sink's and the relays' ports.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = { ...process.env };
const pb = env.PB ?? '/tmp/peerbench';
const harness =
  env.RELAYGATE_PEER_BENCH ?? ['../shared/bench/run-peers.sh', '../../shared/bench/run-peers.sh'].map((p) => resolve(p)).find((p) => existsSync(p));
if (!harness) {
  console.error('run-peers.sh not found: set RELAYGATE_PEER_BENCH to the shared harness');
  process.exit(2);
}

const lock = join(pb, 'compare.lock');
mkdirSync(pb, { recursive: true });
try {
  writeFileSync(lock, String(process.pid), { flag: 'wx' });
} catch {
  const holder = Number(readFileSync(lock, 'utf8'));
  let alive = false;
  try {
    process.kill(holder, 0);
    alive = true;
  } catch {
    // a stale lock
  }
  if (alive) {
    console.error(`another comparison (pid ${holder}) is running; ${lock}`);
    process.exit(2);
  }
  writeFileSync(lock, String(process.pid));
}
const unlock = () => rmSync(lock, { force: true });

if (!env.RELAYGATE_BENCH_PG_URL) {
  const { startThrowawayCluster } = await import(pathToFileURL(resolve('dist/test/support/postgres-cluster.js')).href);
  env.RELAYGATE_BENCH_PG_URL = (await startThrowawayCluster(process.env, { durable: true })).url;
}
const rows = [
  '-t', 'relaygate|25260|exec ./bench/peers/start-relaygate.sh',
  ...[1, 2, 3].flatMap((n) => ['-t', `relaygate-pg-${n}|25270|exec ./bench/peers/start-relaygate-postgres.sh 25270 ${n}`]),
];
const args = process.argv.slice(2);
const only = args.includes('-o') ? [] : ['-o', 'sink,postfix,relaygate,relaygate-pg-1,relaygate-pg-2,relaygate-pg-3'];
const run = spawn(harness, [...rows, ...only, ...args], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => run.kill(signal));
run.on('close', (code) => {
  unlock();
  process.exit(code ?? 1);
});
