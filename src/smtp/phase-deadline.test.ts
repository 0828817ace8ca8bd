import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhaseDeadlines, type Phase } from './phase-deadline.js';

const hour = 3_600_000;
const settings = { commandDeadline: hour, dataDeadline: hour, pressureCommandTimeout: 20, pressureDataTimeout: 20 };

/** Resolves with the phase that expired; fails the test if none does within `bound` ms. */
function expiry(bound = 5_000): { expired: (phase: Phase) => void; result: Promise<Phase> } {
  let expired!: (phase: Phase) => void;
  const result = new Promise<Phase>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no deadline expired within ${bound} ms`)), bound);
    expired = (phase) => {
      clearTimeout(t);
      resolve(phase);
    };
  });
  return { expired, result };
}

test('under pressure an unattributed session gets the short deadline of its phase', async () => {
  const deadlines = new PhaseDeadlines(settings, () => true);
  const e = expiry();
  deadlines.create(false, e.expired).arm('data');
  assert.equal(deadlines.relaxedCount, 0);
  assert.equal(await e.result, 'data');
});

test('when pressure begins, unattributed sessions on the normal deadline are shortened, attributed ones are not', async () => {
  let pressure = false;
  const deadlines = new PhaseDeadlines(settings, () => pressure);
  const stranger = expiry();
  const strangerDeadline = deadlines.create(false, stranger.expired);
  strangerDeadline.arm('command');
  const tenantFired: Phase[] = [];
  const tenantDeadline = deadlines.create(true, (p) => tenantFired.push(p));
  tenantDeadline.arm('command');
  assert.equal(deadlines.relaxedCount, 1, 'only the stranger would be shortened');
  pressure = true;
  deadlines.tighten();
  assert.equal(deadlines.relaxedCount, 0);
  assert.equal(await stranger.result, 'command');
  assert.deepEqual(tenantFired, []);
  tenantDeadline.stop();
});

test('a stopped deadline never fires and leaves nothing behind', async () => {
  const deadlines = new PhaseDeadlines(settings, () => false);
  const fired: Phase[] = [];
  const d = deadlines.create(false, (p) => fired.push(p));
  d.arm('command');
  d.stop();
  d.arm('data');
  assert.equal(deadlines.relaxedCount, 0);
  deadlines.tighten();
  // A later deadline that does fire shows the stopped one had its chance.
  const later = expiry();
  new PhaseDeadlines(settings, () => true).create(false, later.expired).arm('command');
  await later.result;
  assert.deepEqual(fired, []);
});
