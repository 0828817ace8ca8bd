import type { Migration } from './index.js';

/**
 * Webhooks: subscriptions per tenant (ON DELETE CASCADE with the tenant), the event types of the
 * enabled ones by (tenant id, event type), the outbox and the delivery log.
 *
 * The outbox is filled by triggers on trace_events, so a trace event and the webhooks it owes
 * commit in the same transaction as the state change they describe, whichever write path appended
 * it, at the cost of one indexed lookup per event (nothing is written for a tenant with no
 * subscription to that type). The outbox keeps a copy of the trace row as JSON: retention may
 * prune the trace before the last retry. `legacy-only` is a recipient the rule set in force relays
 * or refuses while the 2023-11 verdict refuses and the legacy one relays (a queued recipient under
 * the legacy rules, or a refusal under 2023-11).
 */
const EVENT_JSON = `json_object('id', NEW.id, 'at', NEW.at, 'kind', NEW.kind, 'status', NEW.status, 'tenant_id', NEW.tenant_id,
    'tenant', NEW.tenant, 'session_id', NEW.session_id, 'tx_no', NEW.tx_no, 'queue_id', NEW.queue_id, 'client_ip', NEW.client_ip,
    'connector', NEW.connector, 'cert_name', NEW.cert_name, 'sender', NEW.sender, 'sender_domain', NEW.sender_domain,
    'recipient', NEW.recipient, 'recipient_domain', NEW.recipient_domain, 'message_id_header', NEW.message_id_header,
    'reason', NEW.reason, 'rule_set', NEW.rule_set, 'detail', NEW.detail)`;

export const webhooksMigration: Migration = {
  version: 17,
  name: 'webhooks',
  sql: `
CREATE TABLE webhook_subscriptions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  event_types TEXT NOT NULL,
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_until INTEGER,
  enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, id);
CREATE TABLE webhook_subscription_events (
  tenant_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  PRIMARY KEY (tenant_id, event_type, subscription_id)
);
CREATE INDEX webhook_subscription_events_subscription ON webhook_subscription_events (subscription_id);
CREATE TABLE webhook_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  trace_id INTEGER,
  event TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  lease_generation INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  finished_at INTEGER
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_subscription ON webhook_outbox (subscription_id, id);
CREATE INDEX webhook_outbox_tenant ON webhook_outbox (tenant_id, id);
CREATE TABLE webhook_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  outbox_id INTEGER NOT NULL REFERENCES webhook_outbox(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  status_code INTEGER,
  duration_ms INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts (outbox_id, id);
CREATE TRIGGER trace_events_webhooks AFTER INSERT ON trace_events
WHEN NEW.tenant_id IS NOT NULL AND NEW.kind IN ('refused', 'delivered', 'failed', 'deferred', 'expired')
BEGIN
  INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, trace_id, event, created_at, next_attempt_at)
  SELECT se.subscription_id, NEW.tenant_id, NEW.kind, NEW.id, ${EVENT_JSON}, NEW.at, NEW.at
  FROM webhook_subscription_events se WHERE se.tenant_id = NEW.tenant_id AND se.event_type = NEW.kind;
END;
CREATE TRIGGER trace_events_webhooks_legacy_only AFTER INSERT ON trace_events
WHEN NEW.tenant_id IS NOT NULL AND NEW.kind IN ('queued', 'refused')
BEGIN
  INSERT INTO webhook_outbox (subscription_id, tenant_id, event_type, trace_id, event, created_at, next_attempt_at)
  SELECT se.subscription_id, NEW.tenant_id, 'legacy-only', NEW.id, ${EVENT_JSON}, NEW.at, NEW.at
  FROM webhook_subscription_events se WHERE se.tenant_id = NEW.tenant_id AND se.event_type = 'legacy-only'
    AND (CASE NEW.kind WHEN 'queued'
      THEN json_extract(NEW.detail, '$.currentVerdict') = 'rejected' AND json_extract(NEW.detail, '$.legacyVerdict') = 'relay'
      ELSE json_extract(NEW.detail, '$.recipientDecision.currentVerdict') = 'rejected'
        AND json_extract(NEW.detail, '$.recipientDecision.legacyVerdict') = 'relay' END);
END;
`,
};
