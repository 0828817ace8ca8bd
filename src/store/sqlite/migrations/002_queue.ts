import type { Migration } from './index.js';

/**
 * The queue and the decision log, agreed between the SMTP front end and delivery (times are epoch
 * milliseconds). Delivery adds its own columns and tables in later migrations; this one is never
 * edited once applied.
 */
export const queueMigration: Migration = {
  version: 2,
  name: 'queue',
  sql: `
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'mail',
  tenant TEXT, connector TEXT, attribution TEXT NOT NULL, directionality TEXT NOT NULL,
  mail_from TEXT NOT NULL,
  env_id TEXT, ret TEXT,
  body_type TEXT, smtputf8 INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL,
  spool_path TEXT NOT NULL,
  client_ip TEXT, client_helo TEXT, tls TEXT,
  header_from TEXT, subject TEXT, message_id_header TEXT,
  received_at INTEGER NOT NULL
);
CREATE TABLE recipients (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  address TEXT NOT NULL, domain TEXT NOT NULL,
  notify TEXT, orcpt TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT, lease_until INTEGER,
  last_reply TEXT, last_attempt_at INTEGER,
  dsn_status TEXT,
  delayed_dsn_sent INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX recipients_due ON recipients(state, next_attempt_at);
CREATE INDEX recipients_message ON recipients(message_id);
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, session_id TEXT NOT NULL, message_id TEXT,
  client_ip TEXT NOT NULL, tenant TEXT, connector TEXT, attribution TEXT NOT NULL,
  mail_from TEXT, recipient TEXT, verdict TEXT NOT NULL, reply TEXT NOT NULL,
  rule_set TEXT NOT NULL, current_verdict TEXT NOT NULL, legacy_verdict TEXT NOT NULL,
  steps TEXT NOT NULL
);
CREATE INDEX decisions_at ON decisions(at);
`,
};
