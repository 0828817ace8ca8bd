import type { Migration } from './index.js';

/**
 * Messages by arrival time: the delay notices due are found among the messages old enough to be
 * owed one (delivery-store.ts), not by reading every deferred recipient, so a pass does not grow
 * with the number of messages waiting for a retry.
 */
export const queueScanIndexesMigration: Migration = {
  version: 16,
  name: 'queue-scan-indexes',
  sql: `
CREATE INDEX messages_received_at ON messages(received_at);
`,
};
