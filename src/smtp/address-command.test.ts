import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressBytes } from './address-bytes.js';
import { pathSpan } from './address-command.js';

const span = (line: string) => {
  const s = pathSpan((i) => line.charCodeAt(i), line.length);
  return s && { path: line.slice(s.open + 1, s.close), quoted: s.quoted && line.slice(s.quoted.start, s.quoted.end + 1) };
};

test('the path ends at the first > outside a quoted local part', () => {
  assert.deepEqual(span('RCPT TO:<"john doe"@contoso.com> NOTIFY=NEVER'), { path: '"john doe"@contoso.com', quoted: '"john doe"' });
  assert.deepEqual(span('RCPT TO:<"a<b>c"@contoso.com>'), { path: '"a<b>c"@contoso.com', quoted: '"a<b>c"' });
  assert.deepEqual(span('RCPT TO:<"a\\"> b"@contoso.com>'), { path: '"a\\"> b"@contoso.com', quoted: '"a\\"> b"' });
  assert.deepEqual(span('RCPT TO: <@relay.example:"x y"@contoso.com>'), { path: '@relay.example:"x y"@contoso.com', quoted: '"x y"' });
  assert.deepEqual(span('MAIL FROM:<app@contoso.com> SIZE=10'), { path: 'app@contoso.com', quoted: null });
  assert.deepEqual(span('RCPT TO:<a"b c"@contoso.com>'), { path: 'a"b c"@contoso.com', quoted: null }, 'a quote inside a dot-atom is not a quoted local part');
  assert.equal(span('RCPT TO:<"unterminated@contoso.com>'), null);
  assert.equal(span('RCPT TO:x<a@b>'), null);
  assert.equal(span('RCPT TO:'), null);
});

test('the byte checks see the whole path, brackets inside quotes included', () => {
  const line = Buffer.concat([Buffer.from('RCPT TO:<"a<b>'), Buffer.from([0xff]), Buffer.from('c"@contoso.com>')]);
  assert.deepEqual(addressBytes(line), line.subarray(9, line.length - 1));
  assert.deepEqual(addressBytes(Buffer.from('MAIL FROM:<>')), Buffer.alloc(0));
});
