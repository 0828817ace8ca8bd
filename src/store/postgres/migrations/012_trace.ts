import type { PostgresMigration } from './index.js';

/**
 * The message trace (store/trace-rows.ts), partitioned by day of `at` (UTC, epoch milliseconds):
 * `trace_events_pYYYYMMDD` holds [day, day + 1). Partitions are made ahead (this migration makes
 * today's and tomorrow's; every retention pass keeps a week ahead), and retention drops a
 * whole partition once every event in it is past every kind's retention; kinds kept for less are
 * deleted from the younger partitions in bounded batches. An event for a day without a partition
 * (a clock far off) goes to the default partition instead of failing its transaction;
 * trace_events_ensure_day moves such rows into the day's partition when it is made.
 *
 * The id comes from a sequence (a partitioned table's rows are unique by (at, id)); every search
 * field has an index ending in `at`, created on each partition by the parent's definition.
 */
export const traceMigration: PostgresMigration = {
  version: 12,
  name: 'trace',
  sql: `
CREATE SEQUENCE trace_events_id_seq;
CREATE TABLE trace_events (
  id bigint NOT NULL DEFAULT nextval('trace_events_id_seq'),
  at bigint NOT NULL,
  kind text NOT NULL,
  status text,
  tenant_id text,
  tenant text,
  session_id text,
  tx_no integer,
  queue_id text,
  client_ip text,
  connector text,
  cert_name text,
  sender text,
  sender_domain text,
  recipient text,
  recipient_domain text,
  message_id_header text,
  reason text,
  rule_set text,
  detail text NOT NULL,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
ALTER SEQUENCE trace_events_id_seq OWNED BY trace_events.id;
CREATE TABLE trace_events_default PARTITION OF trace_events DEFAULT;
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

-- Makes the partition of the UTC day starting at day_start (epoch ms) unless it exists, moving the
-- day's rows out of the default partition first; true when it made one. Callers hold the
-- trace-partition advisory lock, so two nodes never make the same day at once.
CREATE FUNCTION trace_events_ensure_day(day_start bigint) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  part text := 'trace_events_p' || to_char(to_timestamp(day_start / 1000.0) AT TIME ZONE 'UTC', 'YYYYMMDD');
  day_end bigint := day_start + 86400000;
BEGIN
  IF day_start % 86400000 <> 0 THEN
    RAISE EXCEPTION 'trace partition bound % is not the start of a UTC day', day_start;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'trace_events'::regclass AND c.relname = part) THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE trace_events INCLUDING DEFAULTS)', part);
  EXECUTE format('WITH moved AS (DELETE FROM trace_events_default WHERE at >= %s AND at < %s RETURNING *) INSERT INTO %I SELECT * FROM moved',
    day_start, day_end, part);
  EXECUTE format('ALTER TABLE trace_events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', part, day_start, day_end);
  RETURN true;
END
$fn$;

SELECT trace_events_ensure_day(d)
FROM generate_series(
  (floor(extract(epoch FROM now()) * 1000 / 86400000) * 86400000)::bigint,
  (floor(extract(epoch FROM now()) * 1000 / 86400000) * 86400000)::bigint + 86400000,
  86400000
) AS d;
`,
};
