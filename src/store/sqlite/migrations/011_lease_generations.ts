import type { Migration } from './index.js';

/**
 * Every claim of a recipient gives its lease a new generation, the fencing token the claimer gets
 * back and names when it records an outcome or renews: a process on the same file (or a stale run
 * of this one) whose lease ran out and was claimed again cannot record over the claim that followed.
 * Rows start at 0, as PostgreSQL's do.
 */
export const leaseGenerationsMigration: Migration = {
  version: 11,
  name: 'lease-generations',
  sql: `ALTER TABLE recipients ADD COLUMN lease_generation INTEGER NOT NULL DEFAULT 0;`,
};
