import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoDirectory } from '../../directory/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryStoreContract, type OpenedDirectoryStore } from '../directory-contract.js';
import { openSqlite } from './database.js';
import { SqliteDirectoryStore } from './directory-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-dirstore-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(file: string): OpenedDirectoryStore {
  const db = openSqlite(file);
  return {
    store: new SqliteDirectoryStore(db),
    close: async () => {
      if (db.open) db.close();
    },
    reopen: async () => openAt(file),
  };
}

directoryStoreContract('sqlite', async () => openAt(join(root, `case-${++n}`, 'relaygate.db')));

test('a second connection to the same file sees every committed change and its revision', async () => {
  const file = join(root, 'shared', 'relaygate.db');
  const writer = openAt(file);
  const reader = openAt(file);
  try {
    assert.equal(await reader.store.revision(), 0);
    await writer.store.replace(demoDirectory);
    assert.equal(await reader.store.revision(), 1);
    assert.deepEqual(await reader.store.load(), demoDirectory);
    await writer.store.removeTenant('fabrikam');
    assert.equal(await reader.store.revision(), 2);
    assert.deepEqual((await reader.store.load()).tenants.map((t) => t.name), ['demo']);
  } finally {
    await writer.close();
    await reader.close();
  }
});
