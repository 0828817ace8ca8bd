import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDirectory } from '../directory/index.js';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { SnapshotCache } from './policy-source.js';

test('the directory snapshot is rebuilt only when the revision moved, asked at most once per interval', async () => {
  const db = openSqlite(':memory:');
  const directory = new SqliteDirectoryStore(db);
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }] }));
  let now = 0;
  const calls = { revisions: 0, loads: 0 };
  const source = {
    revision: () => (calls.revisions++, directory.revision()),
    load: () => (calls.loads++, directory.load()),
  };
  const cache = new SnapshotCache(source, 1000, () => now);
  const first = await cache.snapshot();
  now = 999;
  assert.equal(await cache.snapshot(), first);
  assert.deepEqual(calls, { revisions: 1, loads: 1 }, 'within the interval: no store call');
  now = 1000;
  assert.equal(await cache.snapshot(), first, 'revision unchanged: the same snapshot');
  assert.deepEqual(calls, { revisions: 2, loads: 1 });
  await directory.addTenant({ name: 'fabrikam' });
  now = 2000;
  assert.ok((await cache.snapshot()).tenant('fabrikam'));
  assert.deepEqual(calls, { revisions: 3, loads: 2 });
  db.close();
});

test('a snapshot asked while a check runs is the checked one, not the one before', async () => {
  const db = openSqlite(':memory:');
  const directory = new SqliteDirectoryStore(db);
  await directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }] }));
  let now = 0;
  let release = (): void => undefined;
  let gate: Promise<void> = Promise.resolve();
  // The real store, its load held until released: the check is in progress meanwhile.
  const slowLoad = { revision: () => directory.revision(), load: async () => (await gate, directory.load()) };
  const cache = new SnapshotCache(slowLoad, 1000, () => now);
  await cache.snapshot();
  await directory.addTenant({ name: 'fabrikam' });
  gate = new Promise((r) => (release = r));
  now = 5000;
  const checking = cache.snapshot();
  // Let the check read the revision and wait in load().
  await new Promise((r) => setImmediate(r));
  const asked = cache.snapshot();
  release();
  assert.ok((await checking).tenant('fabrikam'));
  assert.ok((await asked).tenant('fabrikam'), 'the snapshot asked during the check has the new tenant');
  db.close();
});
