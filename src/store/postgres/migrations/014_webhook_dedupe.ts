import type { PostgresMigration } from './index.js';

/** As SQLite's 018: an outbox row's dedupe key, unique per subscription (connector-health warnings, once a day). */
export const webhookDedupeMigration: PostgresMigration = {
  version: 14,
  name: 'webhook_dedupe',
  sql: `
ALTER TABLE webhook_outbox ADD COLUMN dedupe_key text;
CREATE UNIQUE INDEX webhook_outbox_dedupe ON webhook_outbox (subscription_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
`,
};
