/**
 * Typo protection for keys in files: the known key that differs only in case, in number or by one
 * or two letters (`certifcate` → `certificate`, `retries` → `retry`), as ` (did you mean X?)`, or ''.
 */
export function didYouMean(key: string, known: readonly string[]): string {
  const lower = singular(key.toLowerCase());
  const hit =
    known.find((k) => singular(k.toLowerCase()) === lower) ??
    known
      .map((k) => ({ k, d: editDistance(singular(k.toLowerCase()), lower) }))
      .filter((x) => x.d <= 2)
      .sort((a, b) => a.d - b.d)[0]?.k;
  return hit ? ` (did you mean ${hit}?)` : '';
}

/** English plurals of key names: `retries` → `retry`, `listeners` → `listener`. */
function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
