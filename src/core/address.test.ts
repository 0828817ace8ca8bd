import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainOf, domainPartOf, localPartOf, splitAddress } from './address.js';

test('splitAddress: at the last @, parts as written', () => {
  assert.deepEqual(splitAddress('Alice@Contoso.COM'), { local: 'Alice', domain: 'Contoso.COM' });
  assert.deepEqual(splitAddress('"a@b"@contoso.com'), { local: '"a@b"', domain: 'contoso.com' });
  assert.deepEqual(splitAddress('@contoso.com'), { local: '', domain: 'contoso.com' });
  assert.deepEqual(splitAddress('alice@'), { local: 'alice', domain: '' });
  assert.equal(splitAddress('postmaster'), null);
  assert.equal(splitAddress(''), null);
});

test('localPartOf and domainPartOf: an address without @ is all local part', () => {
  assert.equal(localPartOf('bob@contoso.com'), 'bob');
  assert.equal(localPartOf('postmaster'), 'postmaster');
  assert.equal(domainPartOf('bob@Contoso.com'), 'Contoso.com');
  assert.equal(domainPartOf('postmaster'), '');
});

test('domainOf: canonical form, null when there is no domain or it is not a host name', () => {
  assert.equal(domainOf('bob@Contoso.COM.'), 'contoso.com');
  assert.equal(domainOf('leser@bücher.example'), 'xn--bcher-kva.example');
  assert.equal(domainOf('"x@evil.example"@contoso.com'), 'contoso.com');
  assert.equal(domainOf('postmaster'), null);
  assert.equal(domainOf('bob@'), null);
  assert.equal(domainOf('bob@[192.0.2.1]'), null);
  assert.equal(domainOf(''), null);
});
