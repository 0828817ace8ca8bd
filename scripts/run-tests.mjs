// Runs every compiled test file with node's built-in runner. Node 20's `--test` takes no globs,
// so the files are listed here. Optional arguments filter by substring of the path.
//
// When a chosen file uses PostgreSQL (imports test/support/postgres.js) and RELAYGATE_TEST_PG_URL
// is not set, one throwaway cluster is started here and handed to every file through that
// variable, so the run pays for one initdb instead of one per file. It is stopped and removed when
// this script ends, however it ends (test/support/postgres-cluster.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { missingPackages, preflightMessage } from './preflight.mjs';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
// The whole suite needs the machine's mail tools; a slice may not, so it only warns.
const missing = missingPackages();
if (missing.length > 0) {
  console.error(`${filters.length === 0 ? '' : 'warning: '}${preflightMessage(missing)}`);
  if (filters.length === 0) process.exit(1);
}
const files = walk('dist', []).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}

const env = { ...process.env };
// Every `relaygate serve` a test starts gets an admin API port of its own, never the default 8025
// (tests run in parallel, and other worktrees' runs on the same machine too).
env.RELAYGATE_ADMIN_ADDRESS ??= '127.0.0.1:0';
const usesPostgres = (file) => /\/postgres\.js['"]/.test(readFileSync(file, 'utf8'));
if (!env.RELAYGATE_TEST_PG_URL && files.some(usesPostgres)) {
  const cluster = pathToFileURL(resolve('dist/test/support/postgres-cluster.js')).href;
  const { startThrowawayCluster } = await import(cluster);
  const started = Date.now();
  try {
    env.RELAYGATE_TEST_PG_URL = (await startThrowawayCluster()).url;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  console.error(`# a throwaway PostgreSQL cluster for this run, started in ${Date.now() - started} ms`);
}

const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
child.on('close', (code) => process.exit(code ?? 1));
