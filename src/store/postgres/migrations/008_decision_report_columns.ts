import type { PostgresMigration } from './index.js';

/**
 * What the impact report groups decisions by, as columns of their own instead of inside the steps'
 * JSON: the certificate name that counted, the header From's domain (known after DATA) and the
 * engine's remedies (JSON text, a list of { rank, text }, like the steps). Older rows keep nulls and no remedies. A
 * report over a time range finds its first id through (at, id).
 */
export const decisionReportColumnsMigration: PostgresMigration = {
  version: 8,
  name: 'decision-report-columns',
  sql: `
ALTER TABLE decisions ADD COLUMN certificate_name text;
ALTER TABLE decisions ADD COLUMN header_from_domain text;
ALTER TABLE decisions ADD COLUMN remedies text NOT NULL DEFAULT '[]';
CREATE INDEX decisions_at_id ON decisions (at, id);
`,
};
