/** The one check of a budget call's numbers, for every adapter: counts are whole and not negative. */
export function assertCounts(what: string, ...counts: number[]): void {
  for (const n of counts) if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what}: ${n} is not a count`);
}
