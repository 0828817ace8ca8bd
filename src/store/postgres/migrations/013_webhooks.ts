import type { PostgresMigration } from './index.js';

/**
 * Webhooks (as SQLite's migration 017): subscriptions per tenant, the event types of the enabled
 * ones by (tenant id, event type), the outbox and the delivery log. A row trigger on the
 * partitioned trace_events (cloned onto every partition) fills the outbox in the transaction
 * that appends the event: one indexed lookup per event, nothing written for a tenant with no
 * subscription to that type. Rows a new day's partition moves out of the default partition are
 * inserted into the table before it is attached, so they fire nothing a second time.
 */
export const webhooksMigration: PostgresMigration = {
  version: 13,
  name: 'webhooks',
  sql: `
CREATE TABLE webhook_subscriptions (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url text NOT NULL,
  event_types text NOT NULL,
  secret text NOT NULL,
  previous_secret text,
  previous_secret_until bigint,
  enabled boolean NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, id);
CREATE TABLE webhook_subscription_events (
  tenant_id text NOT NULL,
  event_type text NOT NULL,
  subscription_id text NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  PRIMARY KEY (tenant_id, event_type, subscription_id)
);
CREATE INDEX webhook_subscription_events_subscription ON webhook_subscription_events (subscription_id);
CREATE TABLE webhook_outbox (
  id bigserial PRIMARY KEY,
  subscription_id text NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  tenant_id text NOT NULL,
  event_type text NOT NULL,
  trace_id bigint,
  event text NOT NULL,
  created_at bigint NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease_owner text,
  lease_until bigint,
  lease_generation integer NOT NULL DEFAULT 0,
  last_status integer,
  last_error text,
  finished_at bigint
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_subscription ON webhook_outbox (subscription_id, id);
CREATE INDEX webhook_outbox_tenant ON webhook_outbox (tenant_id, id);
CREATE TABLE webhook_attempts (
  id bigserial PRIMARY KEY,
  outbox_id bigint NOT NULL REFERENCES webhook_outbox(id) ON DELETE CASCADE,
  at bigint NOT NULL,
  attempt integer NOT NULL,
  outcome text NOT NULL,
  status_code integer,
  duration_ms integer NOT NULL,
  error text
);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts (outbox_id, id);

CREATE FUNCTION trace_events_webhooks() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  legacy_only boolean;
BEGIN
  IF NEW.tenant_id IS NULL THEN
    RETURN NULL;
  END IF;
  IF NEW.kind IN ('refused', 'delivered', 'failed', 'deferred', 'expired') THEN
    INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, trace_id, event, created_at, next_attempt_at)
    SELECT se.subscription_id, NEW.tenant_id, NEW.kind, NEW.id, row_to_json(NEW)::text, NEW.at, NEW.at
    FROM webhook_subscription_events se WHERE se.tenant_id = NEW.tenant_id AND se.event_type = NEW.kind;
  END IF;
  IF NEW.kind IN ('queued', 'refused')
     AND EXISTS (SELECT 1 FROM webhook_subscription_events se WHERE se.tenant_id = NEW.tenant_id AND se.event_type = 'legacy-only') THEN
    legacy_only := CASE NEW.kind
      WHEN 'queued' THEN NEW.detail::jsonb ->> 'currentVerdict' = 'rejected' AND NEW.detail::jsonb ->> 'legacyVerdict' = 'relay'
      ELSE NEW.detail::jsonb #>> '{recipientDecision,currentVerdict}' = 'rejected' AND NEW.detail::jsonb #>> '{recipientDecision,legacyVerdict}' = 'relay'
    END;
    IF legacy_only THEN
      INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, trace_id, event, created_at, next_attempt_at)
      SELECT se.subscription_id, NEW.tenant_id, 'legacy-only', NEW.id, row_to_json(NEW)::text, NEW.at, NEW.at
      FROM webhook_subscription_events se WHERE se.tenant_id = NEW.tenant_id AND se.event_type = 'legacy-only';
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER trace_events_webhooks AFTER INSERT ON trace_events FOR EACH ROW EXECUTE FUNCTION trace_events_webhooks();
`,
};
