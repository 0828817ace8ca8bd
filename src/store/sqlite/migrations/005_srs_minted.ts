import type { Migration } from './index.js';

/**
 * What makes a bounce to an SRS address checkable: each rewritten envelope sender delivery minted,
 * with the message it was minted for, that message's number of outside recipients and the returns
 * counted against it (kept for the SRS age, then pruned); and each recipient's verdict at acceptance,
 * so delivery rewrites only for recipients that were relayed (NULL: a DSN, or queued before this
 * migration, which delivery treats as not relayed).
 */
export const srsMintedMigration: Migration = {
  version: 5,
  name: 'srs-minted',
  sql: `
ALTER TABLE recipients ADD COLUMN verdict TEXT;
CREATE TABLE srs_minted_messages (
  message_id TEXT PRIMARY KEY,
  outside_recipients INTEGER NOT NULL CHECK (outside_recipients >= 0),
  returns INTEGER NOT NULL DEFAULT 0 CHECK (returns >= 0),
  minted_at INTEGER NOT NULL
);
CREATE INDEX srs_minted_messages_at ON srs_minted_messages (minted_at);
CREATE TABLE srs_minted_addresses (
  address TEXT NOT NULL,
  message_id TEXT NOT NULL REFERENCES srs_minted_messages (message_id) ON DELETE CASCADE,
  minted_at INTEGER NOT NULL,
  PRIMARY KEY (address, message_id)
);
CREATE INDEX srs_minted_addresses_message ON srs_minted_addresses (message_id);
CREATE INDEX srs_minted_addresses_at ON srs_minted_addresses (minted_at);
`,
};
