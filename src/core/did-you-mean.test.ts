import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean } from './did-you-mean.js';

test('did you mean: case, number and one or two letters; nothing for a stranger', () => {
  const known = ['retry', 'expireAfter', 'listeners', 'certificate', 'tls', 'ip'];
  assert.equal(didYouMean('retries', known), ' (did you mean retry?)');
  assert.equal(didYouMean('Retry', known), ' (did you mean retry?)');
  assert.equal(didYouMean('listener', known), ' (did you mean listeners?)');
  assert.equal(didYouMean('certifcate', known), ' (did you mean certificate?)');
  assert.equal(didYouMean('expireafter', known), ' (did you mean expireAfter?)');
  assert.equal(didYouMean('tsl', known), ' (did you mean tls?)');
  assert.equal(didYouMean('bogus', known), '');
  assert.equal(didYouMean('anything', []), '');
});
