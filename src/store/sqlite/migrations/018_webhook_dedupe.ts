import type { Migration } from './index.js';

/**
 * An outbox row may carry a dedupe key, unique per subscription: what is not a trace event but a
 * condition seen again and again (a connector-health warning, checked hourly by every node) is owed
 * once per key (the warning and its UTC day), however many nodes and restarts see it.
 */
export const webhookDedupeMigration: Migration = {
  version: 18,
  name: 'webhook_dedupe',
  sql: `
ALTER TABLE webhook_outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX webhook_outbox_dedupe ON webhook_outbox (subscription_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
`,
};
