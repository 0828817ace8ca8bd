import type { Migration } from './index.js';

/**
 * What the impact report groups decisions by, as columns of their own instead of inside the steps'
 * JSON: the certificate name that counted, the header From's domain (known after DATA) and the
 * engine's remedies. Older rows keep nulls and no remedies (they were never recorded). The report
 * reads a tenant's decisions in id order: an index on (tenant_id, id) for its keyset pages.
 */
export const decisionReportColumnsMigration: Migration = {
  version: 10,
  name: 'decision-report-columns',
  sql: `
ALTER TABLE decisions ADD COLUMN certificate_name TEXT;
ALTER TABLE decisions ADD COLUMN header_from_domain TEXT;
ALTER TABLE decisions ADD COLUMN remedies TEXT NOT NULL DEFAULT '[]';
CREATE INDEX decisions_tenant_id ON decisions(tenant_id, id);
`,
};
