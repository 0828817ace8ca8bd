/**
 * What a tenant can subscribe to. Each type is a trace event kind (trace/events.ts) but
 * `legacy-only`: a recipient the 2023-11 rules refuse while the legacy rules relay it, queued under
 * the legacy rule set or refused under 2023-11 (the outbox triggers of both stores pick them out),
 * and `connector-health`: a warning of serve's periodic connector-health check (health/warnings.ts),
 * owed once per warning and UTC day (health-events.ts).
 * `test` is what `webhook test` sends; nobody subscribes to it.
 */
export const webhookEventTypes = ['refused', 'delivered', 'failed', 'deferred', 'expired', 'legacy-only', 'connector-health'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export const TEST_EVENT_TYPE = 'test';

export function isWebhookEventType(s: string): s is WebhookEventType {
  return (webhookEventTypes as readonly string[]).includes(s);
}
