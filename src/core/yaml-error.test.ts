import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeYamlError } from './yaml-error.js';

test('a YAML error shows the line the parser points at, marked, between its neighbours', () => {
  const text = 'tenants:\n  - name: a\n    acceptedDomains: []\n     inboundConnectors: []\n';
  const err = { message: 'All mapping items must start at the same column at line 4, column 1:\n\n...', linePos: [{ line: 4, col: 1 }, { line: 4, col: 2 }] as [{ line: number; col: number }, { line: number; col: number }] };
  assert.equal(
    describeYamlError(err, text),
    'not valid YAML (line 4, column 1): All mapping items must start at the same column\n' +
      '      3 |     acceptedDomains: []\n' +
      '    > 4 |      inboundConnectors: []',
  );
  const eof = { message: 'Flow sequence must end with a ] at line 2, column 1:', linePos: [{ line: 2, col: 1 }] as [{ line: number; col: number }] };
  assert.equal(describeYamlError(eof, 'listeners: [unclosed\n'), 'not valid YAML (line 2, column 1): Flow sequence must end with a ]\n    > 1 | listeners: [unclosed');
  assert.equal(describeYamlError({ message: 'bad' }, 'x'), 'not valid YAML: bad');
});
