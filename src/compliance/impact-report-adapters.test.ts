/**
 * The same live impact report from both store adapters: decisions appended through the port on
 * SQLite and on PostgreSQL, read back in small keyset pages, give the same groups and totals.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshSchema, testDatabase } from '../../test/support/postgres.js';
import { openSqliteStores } from '../app/stores.js';
import { ManualClock } from '../core/clock.js';
import { ulidGenerator } from '../core/ulid.js';
import { decision } from '../store/queue-contract.js';
import type { DecisionRecord, DecisionStore, DirectoryStore } from '../store/ports.js';
import { openPostgres } from '../store/postgres/database.js';
import { PgDecisionStore } from '../store/postgres/decision-store.js';
import { PgDirectoryStore } from '../store/postgres/directory-store.js';
import { ImpactReportService, type ImpactReportItem } from './impact-report.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const REMEDIES = [{ rank: 1, text: 'Use a certificate-based OnPremises connector of contoso.' }, { rank: 2, text: 'Add the certificate host name mail.contoso.test as an accepted domain of contoso.' }];
const database = testDatabase('impact-report');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

function history(tenantId: string): DecisionRecord[] {
  const at = (minutes: number): number => NOW - minutes * 60_000;
  const legacyOnly = { tenantId, verdict: 'relay', currentVerdict: 'rejected', legacyVerdict: 'relay', remedies: REMEDIES };
  return [
    decision({ ...legacyOnly, at: at(50), clientIp: '192.0.2.1', certificateName: 'mail.contoso.test', mailFrom: '', headerFromDomain: 'contoso.test' }),
    decision({ ...legacyOnly, at: at(40), clientIp: '192.0.2.2', certificateName: 'mail.contoso.test', mailFrom: '', headerFromDomain: 'contoso.test' }),
    decision({ ...legacyOnly, at: at(30), clientIp: '192.0.2.9', mailFrom: 'app@vendor.test', headerFromDomain: 'contoso.test' }),
    decision({ tenantId, at: at(20), clientIp: '192.0.2.9', mailFrom: 'app@vendor.test', verdict: 'rejected', currentVerdict: 'rejected', legacyVerdict: 'pending', remedies: REMEDIES }),
    decision({ tenantId, at: at(10), clientIp: '192.0.2.9', mailFrom: 'app@contoso.test' }),
    decision({ tenantId, at: at(5), clientIp: '192.0.2.9', verdict: 'rejected', currentVerdict: 'rejected', legacyVerdict: 'rejected' }),
    decision({ tenantId: null, tenant: null, at: at(5), clientIp: '198.51.100.1', verdict: 'rejected', currentVerdict: 'rejected', legacyVerdict: 'pending' }),
    decision({ ...legacyOnly, at: NOW - 40 * 86_400_000, clientIp: '192.0.2.1' }),
  ];
}

async function report(decisions: DecisionStore, directory: DirectoryStore): Promise<ImpactReportItem[]> {
  await directory.addTenant({ name: 'contoso' });
  const tenant = (await directory.load()).tenants[0]!;
  await decisions.append(history(tenant.id));
  const service = new ImpactReportService({ decisions, directory }, new ManualClock(new Date(NOW)));
  const items: ImpactReportItem[] = [];
  for await (const item of (await service.report({ tenant: 'Contoso' }, { pageSize: 2 })).items) items.push(item);
  return items;
}

test('SQLite and PostgreSQL give the same impact report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-impact-adapters-'));
  const sqlite = openSqliteStores({ dataDir: dir });
  const pgDb = await openPostgres(await freshSchema(await database), { poolSize: 2 });
  try {
    const fromSqlite = await report(sqlite.decisions, sqlite.directory);
    const fromPostgres = await report(new PgDecisionStore(pgDb), new PgDirectoryStore(pgDb, newId));
    assert.deepEqual(fromPostgres, fromSqlite);
    const summary = fromSqlite.map((i) => (i.kind === 'totals' ? i.totals : [i.group.impact, i.group.source, i.group.sourceIps.join(' '), i.group.p1Domain, i.group.p2Domain, i.group.messages, i.group.remedies.length]));
    assert.deepEqual(summary, [
      ['legacy-only', 'mail.contoso.test', '192.0.2.1 192.0.2.2', '<>', 'contoso.test', 2, 2],
      ['newly-refused', '192.0.2.9', '192.0.2.9', 'vendor.test', null, 1, 2],
      ['legacy-only', '192.0.2.9', '192.0.2.9', 'vendor.test', 'contoso.test', 1, 2],
      { decisions: 6, legacyOnly: 3, newlyRefused: 1, groups: 3, ungrouped: 0 },
    ]);
  } finally {
    await sqlite.close();
    await pgDb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
