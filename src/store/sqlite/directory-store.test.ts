import { after } from 'node:test';
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
