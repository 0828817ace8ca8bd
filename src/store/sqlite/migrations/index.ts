import { directoryMigration } from './001_directory.js';
import { queueMigration } from './002_queue.js';
import { deliveryMigration } from './003_delivery.js';
import { deliveryQuotasMigration } from './004_delivery_quotas.js';
import { srsMintedMigration } from './005_srs_minted.js';
import { queueLeasesAndIndexesMigration } from './007_queue_leases_and_indexes.js';

/** A versioned schema change. Versions only grow; an applied migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Applied in order at start (and by `relaygate migrate`). Add new files here, one per version. */
export const migrations: Migration[] = [
  directoryMigration,
  queueMigration,
  deliveryMigration,
  deliveryQuotasMigration,
  srsMintedMigration,
  queueLeasesAndIndexesMigration,
];
