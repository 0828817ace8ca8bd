import type { Migration } from './index.js';

/**
 * Each destination's budget, shared by the processes on this file (store/ports/destination-budget.ts):
 * the connection slots each node leases (a row per destination and node while it delivers there) and
 * the messages counted per window (a row per destination and window; earlier windows are deleted).
 * Both are working state, not data: `relaygate store copy` leaves them behind.
 */
export const destinationBudgetMigration: Migration = {
  version: 12,
  name: 'destination-budget',
  sql: `
CREATE TABLE destination_slots (
  destination TEXT NOT NULL,
  node TEXT NOT NULL,
  slots INTEGER NOT NULL CHECK (slots > 0),
  lease_until INTEGER NOT NULL,
  PRIMARY KEY (destination, node)
);
CREATE INDEX destination_slots_node ON destination_slots(node);
CREATE TABLE destination_rates (
  destination TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  messages INTEGER NOT NULL CHECK (messages >= 0),
  PRIMARY KEY (destination, window_start)
);
`,
};
