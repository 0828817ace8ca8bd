import type { Migration } from './index.js';

/**
 * The queue as several processes share it, and its reads:
 * - bodies are found by message id in the body store, so `messages.spool_path` goes (every row
 *   held `<first five characters of the id>/<id>.eml`, which is where the filesystem body store
 *   looks);
 * - a process releases its own leases at start: an index on the owner of in-flight recipients;
 * - the trace reads decisions by message, by session and by tenant.
 */
export const queueLeasesAndIndexesMigration: Migration = {
  version: 7,
  name: 'queue-leases-and-indexes',
  sql: `
ALTER TABLE messages DROP COLUMN spool_path;
CREATE INDEX recipients_lease_owner ON recipients(lease_owner) WHERE state = 'inflight';
CREATE INDEX decisions_message ON decisions(message_id);
CREATE INDEX decisions_session ON decisions(session_id);
CREATE INDEX decisions_tenant ON decisions(tenant, at);
`,
};
