import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessStoresContract, type OpenedAccessStores } from '../access-contract.js';
import { SqliteAuditLog, SqliteTokenStore } from './access-stores.js';
import { openSqlite } from './database.js';
import { SqliteDirectoryStore } from './directory-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-access-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(file: string): OpenedAccessStores {
  const db = openSqlite(file);
  return {
    directory: new SqliteDirectoryStore(db),
    tokens: new SqliteTokenStore(db),
    audit: new SqliteAuditLog(db),
    close: async () => {
      if (db.open) db.close();
    },
    reopen: async () => openAt(file),
  };
}

accessStoresContract('sqlite', async () => openAt(join(root, `case-${++n}`, 'relaygate.db')));
