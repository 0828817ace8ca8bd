import type { PostgresMigration } from './index.js';

/**
 * The SRS addresses delivery minted, each with its message, that message's number of outside
 * recipients and the returns counted against it (kept for the SRS age, then pruned). Addresses
 * are stored lower-cased. Instants are epoch milliseconds.
 */
export const srsMintedMigration: PostgresMigration = {
  version: 3,
  name: 'srs-minted',
  sql: `
CREATE TABLE srs_minted_messages (
  message_id text PRIMARY KEY,
  outside_recipients integer NOT NULL CHECK (outside_recipients >= 0),
  returns integer NOT NULL DEFAULT 0 CHECK (returns >= 0),
  minted_at bigint NOT NULL
);
CREATE INDEX srs_minted_messages_at ON srs_minted_messages (minted_at);
CREATE TABLE srs_minted_addresses (
  address text NOT NULL,
  message_id text NOT NULL REFERENCES srs_minted_messages (message_id) ON DELETE CASCADE,
  minted_at bigint NOT NULL,
  PRIMARY KEY (address, message_id)
);
CREATE INDEX srs_minted_addresses_message ON srs_minted_addresses (message_id);
CREATE INDEX srs_minted_addresses_at ON srs_minted_addresses (minted_at);
`,
};
