import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { srsMintedStoreContract, type OpenedSrsMintedStore } from '../srs-minted-contract.js';
import { openSqlite, type SqliteDatabase } from './database.js';
import { SqliteSrsMintedStore } from './srs-minted-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-srs-minted-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(file: string): OpenedSrsMintedStore {
  const handles: SqliteDatabase[] = [openSqlite(file)];
  return {
    store: new SqliteSrsMintedStore(handles[0]!),
    second: async () => {
      const db = openSqlite(file);
      handles.push(db);
      return new SqliteSrsMintedStore(db);
    },
    close: async () => {
      for (const db of handles) if (db.open) db.close();
    },
    reopen: async () => openAt(file),
  };
}

srsMintedStoreContract('sqlite', async () => openAt(join(root, `case-${++n}`, 'relaygate.db')));
