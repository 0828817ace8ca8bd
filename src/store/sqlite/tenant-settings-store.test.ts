import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantSettingsContract, type OpenedTenantSettings } from '../tenant-settings-contract.js';
import { openSqlite } from './database.js';
import { SqliteDirectoryStore } from './directory-store.js';
import { SqliteTenantSettingsStore } from './tenant-settings-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-settings-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(file: string): OpenedTenantSettings {
  const db = openSqlite(file);
  return {
    directory: new SqliteDirectoryStore(db),
    settings: new SqliteTenantSettingsStore(db),
    close: async () => {
      if (db.open) db.close();
    },
    reopen: async () => openAt(file),
  };
}

tenantSettingsContract('sqlite', async () => openAt(join(root, `case-${++n}`, 'relaygate.db')));
