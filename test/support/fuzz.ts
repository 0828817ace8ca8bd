/**
 * How many cases a property test runs. In CI each property runs the few it names (seconds); the
 * long run on demand is `npm run fuzz`, which sets FUZZ_RUNS. FUZZ_SEED (with FUZZ_PATH, both printed
 * by fast-check when a property fails) replays a failure exactly.
 */
import type { Parameters } from 'fast-check';

/** The number of runs: the CI default, or FUZZ_RUNS when that is larger. */
export function fuzzRuns(ciRuns: number): number {
  const asked = Number(process.env.FUZZ_RUNS);
  return Number.isSafeInteger(asked) && asked > ciRuns ? asked : ciRuns;
}

/** fast-check parameters for a property: its runs, and the seed and path to replay when given. */
export function fuzzParameters<T>(ciRuns: number): Parameters<T> {
  const seed = Number(process.env.FUZZ_SEED);
  const path = process.env.FUZZ_PATH;
  return {
    numRuns: fuzzRuns(ciRuns),
    ...(Number.isSafeInteger(seed) && process.env.FUZZ_SEED !== '' ? { seed } : {}),
    ...(path ? { path } : {}),
  };
}
