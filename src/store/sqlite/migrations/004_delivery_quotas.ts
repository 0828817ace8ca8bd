import type { Migration } from './index.js';

/** Per-tenant daily recipient quotas (checked at RCPT time) and the counts they are held to. */
export const deliveryQuotasMigration: Migration = {
  version: 4,
  name: 'delivery-quotas',
  sql: `
CREATE TABLE tenant_limits (
  tenant TEXT PRIMARY KEY,
  daily_recipients INTEGER CHECK (daily_recipients IS NULL OR daily_recipients >= 0)
);
CREATE TABLE tenant_recipient_counts (
  tenant TEXT NOT NULL,
  day TEXT NOT NULL,
  recipients INTEGER NOT NULL,
  PRIMARY KEY (tenant, day)
);
`,
};
