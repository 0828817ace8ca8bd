import type { PostgresMigration } from './index.js';

/**
 * Each destination's budget, shared by every node (store/ports/destination-budget.ts): the
 * connection slots each node leases (a row per destination and node while it delivers there; a
 * node takes its share under a transaction-scoped advisory lock on the destination, so two nodes
 * never both count the same free slots) and the messages counted per window (one conditional upsert
 * per count, as the quota counters; earlier windows are deleted). Small hot tables of working state,
 * not data: `relaygate store copy` leaves them behind.
 */
export const destinationBudgetMigration: PostgresMigration = {
  version: 9,
  name: 'destination-budget',
  sql: `
CREATE TABLE destination_slots (
  destination text NOT NULL,
  node text NOT NULL,
  slots integer NOT NULL CHECK (slots > 0),
  lease_until bigint NOT NULL,
  PRIMARY KEY (destination, node)
);
CREATE INDEX destination_slots_node ON destination_slots (node);
CREATE TABLE destination_rates (
  destination text NOT NULL,
  window_start bigint NOT NULL,
  messages integer NOT NULL CHECK (messages >= 0),
  PRIMARY KEY (destination, window_start)
);
`,
};
