import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Srs, SrsError } from './srs.js';
import { ManualClock } from '../core/clock.js';

const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
const srs = new Srs({ secrets: ['a-secret-of-enough-length'], rewriteDomain: 'srs.relay.test' }, clock);

test('SRS0 round trip', () => {
  const fwd = srs.forward('alice@partner.example');
  assert.match(fwd, /^SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=partner\.example=alice@srs\.relay\.test$/);
  assert.equal(srs.reverse(fwd), 'alice@partner.example');
  assert.equal(srs.reverse(fwd.toUpperCase().replace('@SRS.RELAY.TEST', '@srs.relay.test')), 'ALICE@PARTNER.EXAMPLE', 'case-insensitive hash');
});

test('an SRS0 address from another forwarder becomes SRS1 and reverses to that forwarder', () => {
  const other = new Srs({ secrets: ['another-secret-0123456789'], rewriteDomain: 'fwd1.example' }, clock);
  const first = other.forward('bob@origin.example');
  const second = srs.forward(first);
  assert.match(second, /^SRS1=[A-Z2-7]{8}=fwd1\.example==[A-Z2-7]{8}=[A-Z2-7]{2}=origin\.example=bob@srs\.relay\.test$/);
  assert.equal(srs.reverse(second), first);
  assert.equal(other.reverse(srs.reverse(second)), 'bob@origin.example');
  assert.match(srs.forward(second), /^SRS1=/, 'SRS1 stays SRS1 when forwarded again');
});

test('null sender and our own domain are not rewritten', () => {
  assert.equal(srs.forward(''), '');
  assert.equal(srs.forward('x@srs.relay.test'), 'x@srs.relay.test');
});

test('forged hash, expired timestamp and non-SRS addresses are refused', () => {
  const fwd = srs.forward('carol@partner.example');
  const forged = fwd.replace(/^SRS0=[^=]{8}/, 'SRS0=AAAAAAAA');
  assert.throws(() => srs.reverse(forged), (e: unknown) => e instanceof SrsError && e.message === 'SRS hash does not match');
  const later = new Srs({ secrets: ['a-secret-of-enough-length'], rewriteDomain: 'srs.relay.test' }, new ManualClock(new Date('2026-03-25T12:00:00Z')));
  assert.throws(() => later.reverse(fwd), /SRS address expired \(24 days old\)/);
  assert.throws(() => srs.reverse('plain@srs.relay.test'), /not an SRS address: plain@srs.relay.test/);
  assert.throws(() => new Srs({ secrets: ['short'], rewriteDomain: 'x' }, clock), /at least one secret of 16/);
});

test('secret rotation: an address signed with the old secret still reverses', () => {
  const old = srs.forward('dave@partner.example');
  const rotated = new Srs({ secrets: ['the-new-secret-0123456789', 'a-secret-of-enough-length'], rewriteDomain: 'srs.relay.test' }, clock);
  assert.equal(rotated.reverse(old), 'dave@partner.example');
});

test('a character moved between the domain and the local part breaks the hash', () => {
  const fwd = srs.forward('bob@contoso.com');
  const shifted = fwd.replace('=contoso.com=bob@', '=contoso.co=mbob@');
  assert.notEqual(shifted, fwd);
  assert.throws(() => srs.reverse(shifted), (e: unknown) => e instanceof SrsError && e.message === 'SRS hash does not match');
});
