import { directoryMigration } from './001_directory.js';
import { queueMigration } from './002_queue.js';
import { deliveryMigration } from './003_delivery.js';
import { deliveryQuotasMigration } from './004_delivery_quotas.js';
import { srsMintedMigration } from './005_srs_minted.js';
import { tenantIdsMigration } from './006_tenant_ids.js';
import { queueLeasesAndIndexesMigration } from './007_queue_leases_and_indexes.js';
import { messageTenantIdsMigration } from './008_message_tenant_ids.js';
import { relayedHeadersMigration } from './009_relayed_headers.js';
import { decisionReportColumnsMigration } from './010_decision_report_columns.js';
import { leaseGenerationsMigration } from './011_lease_generations.js';
import { destinationBudgetMigration } from './012_destination_budget.js';
import { accessMigration } from './013_access.js';
import { connectorHealthMigration } from './014_connector_health.js';
import { traceMigration } from './015_trace.js';
import { queueScanIndexesMigration } from './016_queue_scan_indexes.js';
import { webhooksMigration } from './017_webhooks.js';
import { webhookDedupeMigration } from './018_webhook_dedupe.js';
import type { SqliteDatabase } from '../database.js';

/** A versioned schema change. Versions only grow; an applied migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  /** The schema change as SQL; run before `up`. */
  sql?: string;
  /** For changes SQL alone cannot make (values computed in code, such as new ids). */
  up?(db: SqliteDatabase): void;
  /**
   * The migration rebuilds tables that others refer to (create, copy, drop, rename), which SQLite
   * allows only with foreign keys off: they are switched off around it and checked before commit.
   */
  rebuildsTables?: boolean;
}

/** Applied in order at start (and by `relaygate migrate`). Add new files here, one per version. */
export const migrations: Migration[] = [
  directoryMigration,
  queueMigration,
  deliveryMigration,
  deliveryQuotasMigration,
  srsMintedMigration,
  tenantIdsMigration,
  queueLeasesAndIndexesMigration,
  messageTenantIdsMigration,
  relayedHeadersMigration,
  decisionReportColumnsMigration,
  leaseGenerationsMigration,
  destinationBudgetMigration,
  accessMigration,
  connectorHealthMigration,
  traceMigration,
  queueScanIndexesMigration,
  webhooksMigration,
  webhookDedupeMigration,
];
