import type { PostgresMigration } from './index.js';

/**
 * The queue's tables are rewritten all day: every claim, outcome and removal leaves a dead row
 * version behind. With the default thresholds (20 % of the table) autovacuum would let a busy
 * recipients table fill with dead rows, and every claim scan them; these tables are vacuumed after
 * 2 % (at least 500 rows) instead, and analysed as often, so the due-index plan stays right.
 */
export const queueVacuumMigration: PostgresMigration = {
  version: 6,
  name: 'queue-vacuum',
  sql: `
ALTER TABLE recipients SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500,
  autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE messages SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500,
  autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE bodies SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500);
ALTER TABLE body_chunks SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500);
`,
};
