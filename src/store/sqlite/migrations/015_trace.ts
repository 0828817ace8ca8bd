import type { Migration } from './index.js';

/**
 * The message trace (store/trace-rows.ts): one row per event, its context in columns, its kind's
 * own fields as JSON. It refers to nothing (history outlives messages and tenants) and is pruned
 * by age per kind in bounded batches, by (kind, at). Every search field has an index ending in
 * `at`, so a filtered search reads its page in time order; addresses, connector and certificate
 * names are matched without regard to case (lower()).
 */
export const traceMigration: Migration = {
  version: 15,
  name: 'trace',
  sql: `
CREATE TABLE trace_events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT,
  tenant_id TEXT,
  tenant TEXT,
  session_id TEXT,
  tx_no INTEGER,
  queue_id TEXT,
  client_ip TEXT,
  connector TEXT,
  cert_name TEXT,
  sender TEXT,
  sender_domain TEXT,
  recipient TEXT,
  recipient_domain TEXT,
  message_id_header TEXT,
  reason TEXT,
  rule_set TEXT,
  detail TEXT NOT NULL
);
CREATE INDEX trace_at ON trace_events (at, id);
CREATE INDEX trace_kind ON trace_events (kind, at);
CREATE INDEX trace_tenant ON trace_events (tenant_id, at) WHERE tenant_id IS NOT NULL;
CREATE INDEX trace_session ON trace_events (session_id, at) WHERE session_id IS NOT NULL;
CREATE INDEX trace_queue ON trace_events (queue_id, at) WHERE queue_id IS NOT NULL;
CREATE INDEX trace_client_ip ON trace_events (client_ip, at) WHERE client_ip IS NOT NULL;
CREATE INDEX trace_connector ON trace_events (lower(connector), at);
CREATE INDEX trace_cert_name ON trace_events (lower(cert_name), at);
CREATE INDEX trace_sender ON trace_events (lower(sender), at);
CREATE INDEX trace_sender_domain ON trace_events (sender_domain, at) WHERE sender_domain IS NOT NULL;
CREATE INDEX trace_recipient ON trace_events (lower(recipient), at);
CREATE INDEX trace_recipient_domain ON trace_events (recipient_domain, at) WHERE recipient_domain IS NOT NULL;
CREATE INDEX trace_message_id ON trace_events (message_id_header, at) WHERE message_id_header IS NOT NULL;
CREATE INDEX trace_status ON trace_events (status, at) WHERE status IS NOT NULL;
CREATE INDEX trace_reason ON trace_events (reason, at) WHERE reason IS NOT NULL;
CREATE INDEX trace_rule_set ON trace_events (rule_set, at) WHERE rule_set IS NOT NULL;
`,
};
