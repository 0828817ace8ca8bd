import { directoryMigration } from './001_directory.js';
import { tenantSettingsMigration } from './002_tenant_settings.js';
import { srsMintedMigration } from './003_srs_minted.js';
import { bodiesMigration } from './004_bodies.js';
import { queueMigration } from './005_queue.js';
import { queueVacuumMigration } from './006_queue_vacuum.js';
import { relayedHeadersMigration } from './007_relayed_headers.js';
import { decisionReportColumnsMigration } from './008_decision_report_columns.js';
import { destinationBudgetMigration } from './009_destination_budget.js';
import { accessMigration } from './010_access.js';
import { connectorHealthMigration } from './011_connector_health.js';
import { traceMigration } from './012_trace.js';
import { webhooksMigration } from './013_webhooks.js';
import { webhookDedupeMigration } from './014_webhook_dedupe.js';

/**
 * A versioned schema change of the PostgreSQL store. Versions only grow; an applied migration is
 * never edited. They are this adapter's own: PostgreSQL started from the schema SQLite had reached,
 * so its numbers do not follow SQLite's (`relaygate store copy` maps one onto the other).
 */
export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

/** Applied in order at start (and by `relaygate migrate`). Add new files here, one per version. */
export const migrations: PostgresMigration[] = [directoryMigration, tenantSettingsMigration, srsMintedMigration, bodiesMigration, queueMigration, queueVacuumMigration, relayedHeadersMigration, decisionReportColumnsMigration, destinationBudgetMigration, accessMigration, connectorHealthMigration, traceMigration, webhooksMigration, webhookDedupeMigration];
