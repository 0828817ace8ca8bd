/**
 * Connector-health warnings as webhook events. They are not trace events: serve's health check
 * finds them again every hour on every node. Each is owed once per subscription, warning (code,
 * connector, certificate) and UTC day, by the outbox's dedupe key, so a tenant hears of it daily
 * while it lasts, whatever the number of nodes and restarts.
 */
import type { DirectoryStore, WebhookStore } from '../store/ports.js';
import { findTenant } from '../directory/find-tenant.js';

export const CONNECTOR_HEALTH_EVENT_TYPE = 'connector-health';

/** A warning as health/warnings.ts gives it. */
export interface HealthWarningEvent {
  code: string;
  tenant: string;
  connector: string;
  message: string;
  fingerprint?: string;
}

/** What serve's health watch calls with each round's warnings; resolves to the outbox rows written. */
export function healthWarningNotifier(deps: { directory: Pick<DirectoryStore, 'load'>; webhooks: Pick<WebhookStore, 'enqueueForTenant'> }) {
  return async (warnings: readonly HealthWarningEvent[], at: number): Promise<number> => {
    if (warnings.length === 0) return 0;
    const directory = await deps.directory.load();
    const day = new Date(at).toISOString().slice(0, 10);
    let written = 0;
    for (const w of warnings) {
      const tenant = findTenant(directory, w.tenant);
      if (!tenant) continue;
      const data = { tenant: tenant.name, connector: w.connector, code: w.code, message: w.message, fingerprint: w.fingerprint ?? null, day };
      written += await deps.webhooks.enqueueForTenant({
        tenantId: tenant.id, eventType: CONNECTOR_HEALTH_EVENT_TYPE, event: JSON.stringify(data), at,
        dedupeKey: `${w.code}|${w.connector.toLowerCase()}|${w.fingerprint ?? ''}|${day}`,
      });
    }
    return written;
  };
}
