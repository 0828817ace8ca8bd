import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../../core/ulid.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { webhookStoreContract, webhookTenantEventContract, type OpenedWebhooks } from '../webhooks-contract.js';
import { openPostgres } from './database.js';
import { PgDirectoryStore } from './directory-store.js';
import { PgTraceStore } from './trace-store.js';
import { PgWebhookStore } from './webhook-store.js';

const database = testDatabase('webhooks');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function open(): Promise<OpenedWebhooks> {
  const db = await openPostgres(await freshSchema(await database), { poolSize: 4 });
  let closed: Promise<void> | undefined;
  return {
    directory: new PgDirectoryStore(db, newId),
    trace: new PgTraceStore(db),
    webhooks: new PgWebhookStore(db),
    close: () => (closed ??= db.close()),
  };
}

webhookStoreContract('postgres', open);
webhookTenantEventContract('postgres', open);
