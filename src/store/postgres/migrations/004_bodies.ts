import type { PostgresMigration } from './index.js';

/**
 * Message bodies in the database, so a node keeps nothing another node needs: one row per body
 * (created when writing starts, so the orphan sweep sees bodies still being written; `committed`
 * once the writer commits) and its content in chunks of at most 256 KiB, in order. Bodies are
 * mostly compressed or encoded attachments already: their chunks are stored out of line without
 * compression (STORAGE EXTERNAL) instead of spending CPU on pglz for nothing.
 */
export const bodiesMigration: PostgresMigration = {
  version: 4,
  name: 'bodies',
  sql: `
CREATE TABLE bodies (
  id text PRIMARY KEY,
  committed boolean NOT NULL DEFAULT false,
  size bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE body_chunks (
  body_id text NOT NULL REFERENCES bodies(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (body_id, seq)
);
ALTER TABLE body_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
`,
};
