import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, RelaygateError } from '../core/errors.js';
import { formatReply } from '../core/reply.js';
import { sessionFailure, sessionFailureReplies } from './error-reply.js';

test('every error code in a session but a full store answers 451 4.3.0 with the generic text; the detail only reaches the log', () => {
  assert.deepEqual(Object.keys(sessionFailureReplies).sort(), [...errorCodes].sort(), 'the table covers every code');
  const errors = [
    ...errorCodes.map((code) => new RelaygateError(code, `tenant contoso: limit 3 (${code})`, { details: { tenant: 'contoso' } })),
    new TypeError('x is undefined'),
  ];
  for (const err of errors) {
    const logged: unknown[] = [];
    const reply = sessionFailure({ onError: (e) => logged.push(e) }, err, undefined);
    const expected = err instanceof RelaygateError && err.code === 'store-full' ? '452 4.3.1 Insufficient system storage' : '451 4.3.0 Temporary server error, please try again later';
    assert.equal(formatReply(reply), expected, err.message);
    assert.deepEqual(logged, [err], 'the error itself, with its details, goes to the log');
  }
});
