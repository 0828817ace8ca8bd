/**
 * How many cases a property test runs. In CI each property runs the few it names (seconds); the
 * long run on demand is `npm run fuzz`, which sets FUZZ_RUNS (20,000 unless given). A property whose
 * every case is a real SMTP session (a live one) runs a hundredth of that. FUZZ_SEED and FUZZ_PATH,
 * both printed by fast-check when a property fails, replay the failure exactly.
 */
import type { Parameters } from 'fast-check';

export interface FuzzOptions {
  /** Each case costs a real session (about 0.1 s): a long run takes FUZZ_RUNS / 100 of them. */
  live?: boolean;
}

/** The number of runs: the CI default, or what FUZZ_RUNS asks for when that is more. */
export function fuzzRuns(ciRuns: number, options: FuzzOptions = {}): number {
  const asked = Number(process.env.FUZZ_RUNS);
  if (!Number.isSafeInteger(asked) || asked <= 0) return ciRuns;
  return Math.max(ciRuns, options.live ? Math.ceil(asked / 100) : asked);
}

/** fast-check parameters for a property: its runs, and the seed and path to replay when given. */
export function fuzzParameters<T>(ciRuns: number, options: FuzzOptions = {}): Parameters<T> {
  const seed = process.env.FUZZ_SEED;
  const path = process.env.FUZZ_PATH;
  return {
    numRuns: fuzzRuns(ciRuns, options),
    ...(seed !== undefined && seed !== '' && Number.isSafeInteger(Number(seed)) ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
  };
}
