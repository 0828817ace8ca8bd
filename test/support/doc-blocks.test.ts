import { test } from 'node:test';
import assert from 'node:assert/strict';
import { docBlocks, linesMatch, shellWords, substitute, tableRows } from './doc-blocks.js';

test('marked fenced blocks and tables are read; a block marked twice fails', () => {
  const page = 'text\n<!-- walkthrough-test: a -->\n```yaml\nx: 1\n```\n\n<!-- walkthrough-test: t -->\n| h | i |\n|---|---|\n| `a` | b |\n\nafter\n';
  const blocks = docBlocks(page);
  assert.equal(blocks.get('a'), 'x: 1\n');
  assert.deepEqual(tableRows(blocks.get('t')!), [['a', 'b']]);
  assert.throws(() => docBlocks(`${page}<!-- walkthrough-test: a -->\n\`\`\`\ny\n\`\`\`\n`), /marked twice/);
});

test('a substitution whose text the block no longer holds fails', () => {
  assert.equal(substitute('b', 'port 25 and 25', [['25', '2600']]), 'port 2600 and 2600');
  assert.throws(() => substitute('b', 'port 26', [['25', '2600']]), /no longer contains "25"/);
});

test('expected lines: … within a line is any text, a line of … is any number of lines', () => {
  assert.ok(linesMatch(['a …', '…', 'z'], ['a b c', 'x', 'y', 'z']));
  assert.ok(linesMatch(['a …', '…', 'z'], ['a ', 'z']));
  assert.ok(!linesMatch(['a …', 'z'], ['a b', 'y', 'z']), 'lines are not skipped without a … line');
  assert.ok(!linesMatch(['a.c'], ['abc']), 'the rest is literal');
  assert.ok(!linesMatch(['a'], ['a', 'b']), 'nothing may follow');
});

test('shell words: plain words and single quotes', () => {
  assert.deepEqual(shellWords(`swaks --from '<>' --header 'Subject: a b' x`), ['swaks', '--from', '<>', '--header', 'Subject: a b', 'x']);
});
