import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webhookStoreContract, webhookTenantEventContract, type OpenedWebhooks } from '../webhooks-contract.js';
import { openSqlite } from './database.js';
import { SqliteDirectoryStore } from './directory-store.js';
import { SqliteTraceStore } from './trace-store.js';
import { SqliteWebhookStore } from './webhook-store.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-webhooks-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function open(): Promise<OpenedWebhooks> {
  const db = openSqlite(join(root, `case-${++n}.db`));
  return {
    directory: new SqliteDirectoryStore(db),
    trace: new SqliteTraceStore(db),
    webhooks: new SqliteWebhookStore(db),
    close: async () => {
      if (db.open) db.close();
    },
  };
}

webhookStoreContract('sqlite', open);
webhookTenantEventContract('sqlite', open);
