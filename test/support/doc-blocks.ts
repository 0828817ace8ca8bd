/**
 * A document as test input: the blocks a Markdown page marks with `<!-- walkthrough-test: NAME -->`
 * (the fenced code block or the table right after the marker), the values a test must change to run
 * them on one machine, and expected output written with `…` for what varies. So the page and the test
 * cannot drift apart: the test runs the page's own text.
 */
import assert from 'node:assert/strict';

/** NAME → the block's text (a fenced block's content, or a table's lines), each ending in a newline. */
export function docBlocks(markdown: string, marker = 'walkthrough-test'): Map<string, string> {
  const blocks = new Map<string, string>();
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const name = new RegExp(`^<!-- ${marker}: (\\S+) -->$`).exec(lines[i]!)?.[1];
    if (!name) continue;
    assert.ok(!blocks.has(name), `block ${name} is marked twice`);
    let j = i + 1;
    while (lines[j] === '') j++;
    const body: string[] = [];
    if (lines[j]?.startsWith('```')) {
      for (j++; j < lines.length && !lines[j]!.startsWith('```'); j++) body.push(lines[j]!);
      assert.ok(j < lines.length, `block ${name} has no closing fence`);
    } else if (lines[j]?.startsWith('|')) {
      for (; j < lines.length && lines[j]!.startsWith('|'); j++) body.push(lines[j]!);
    } else {
      assert.fail(`the marker of block ${name} is followed by neither a fenced block nor a table`);
    }
    blocks.set(name, body.map((l) => `${l}\n`).join(''));
  }
  return blocks;
}

/** The block's text with each `from` replaced by its `to`; a `from` the block no longer holds fails the test. */
export function substitute(name: string, text: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [from, to] of pairs) {
    assert.ok(out.includes(from), `block ${name} no longer contains ${JSON.stringify(from)}: update the test's substitutions with the page`);
    out = out.split(from).join(to);
  }
  return out;
}

/** The rows of a Markdown table block without its header and separator, as trimmed cells with the backticks removed. */
export function tableRows(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .slice(2)
    .map((row) =>
      row
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1')),
    );
}

/** One expected line as a regular expression: literal text, `…` for any text. */
function linePattern(line: string): RegExp {
  return new RegExp(`^${line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}$`);
}

/**
 * Whether the actual lines are the expected ones: each expected line matches one actual line in
 * order, `…` within a line standing for any text; a line that is only `…` stands for any number of
 * lines (none included).
 */
export function linesMatch(expected: readonly string[], actual: readonly string[]): boolean {
  const patterns = expected.map((l) => (l === '…' ? null : linePattern(l)));
  const memo = new Map<string, boolean>();
  const from = (e: number, a: number): boolean => {
    const key = `${e},${a}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (e === patterns.length) result = a === actual.length;
    else if (patterns[e] === null) result = from(e + 1, a) || (a < actual.length && from(e, a + 1));
    else result = a < actual.length && patterns[e]!.test(actual[a]!) && from(e + 1, a + 1);
    memo.set(key, result);
    return result;
  };
  return from(0, 0);
}

export function assertLinesMatch(name: string, expected: string, actual: string): void {
  const want = expected.replace(/\n$/, '').split('\n');
  const got = actual.replace(/\r?\n$/, '').split(/\r?\n/);
  assert.ok(linesMatch(want, got), `block ${name} does not match what was printed.\n--- the page:\n${want.join('\n')}\n--- printed:\n${got.join('\n')}`);
}

/** Splits a command line into words the way sh does for plain words and '...' quotes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/(?:'[^']*'|[^\s'])+/g)) words.push(m[0].replace(/'([^']*)'/g, '$1'));
  return words;
}
