import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectorHealthStoreContract, type OpenedConnectorHealthStore } from '../connector-health-contract.js';
import { openSqlite, type SqliteDatabase } from './database.js';
import { SqliteConnectorHealthStore } from './connector-health-store.js';
import { SqliteDirectoryStore } from './directory-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-connector-health-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(file: string): OpenedConnectorHealthStore {
  const handles: SqliteDatabase[] = [openSqlite(file)];
  return {
    store: new SqliteConnectorHealthStore(handles[0]!),
    directory: new SqliteDirectoryStore(handles[0]!),
    second: async () => {
      const db = openSqlite(file);
      handles.push(db);
      return new SqliteConnectorHealthStore(db);
    },
    close: async () => {
      for (const db of handles) if (db.open) db.close();
    },
    reopen: async () => openAt(file),
  };
}

connectorHealthStoreContract('sqlite', async () => openAt(join(root, `case-${++n}`, 'relaygate.db')));
