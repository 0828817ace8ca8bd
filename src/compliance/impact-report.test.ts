import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { after, before, describe, it } from 'node:test';
import { openSqliteStores, type SqliteStores } from '../app/stores.js';
import { ManualClock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';
import type { DecisionScanFilter, DecisionStore, ScannedDecision } from '../store/ports.js';
import { ImpactReportService, type ImpactReportItem, type ImpactTotals } from './impact-report.js';
import type { ImpactGroup } from './impact-grouping.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const DAY = 86_400_000;
const REMEDIES = JSON.stringify([
  { rank: 1, text: 'Use a certificate-based OnPremises connector of contoso whose TlsSenderCertificateName is an accepted domain.' },
  { rank: 3, text: 'Make the application send with an envelope sender (MAIL FROM) in an accepted domain of contoso.' },
]);

async function collect(items: AsyncIterable<ImpactReportItem>): Promise<{ groups: ImpactGroup[]; totals: ImpactTotals }> {
  const groups: ImpactGroup[] = [];
  for await (const item of items) {
    if (item.kind === 'totals') return { groups, totals: item.totals };
    groups.push(item.group);
  }
  throw new Error('no totals');
}

/** The real adapter, watched: how many decisions each page of its scan handed over. */
function watched(decisions: DecisionStore): { store: DecisionStore; pages: number[] } {
  const pages: number[] = [];
  return {
    pages,
    store: {
      append: (d) => decisions.append(d),
      list: (f) => decisions.list(f),
      count: (f) => decisions.count(f),
      scan: (f?: DecisionScanFilter): AsyncIterable<ScannedDecision[]> => ({
        async *[Symbol.asyncIterator]() {
          for await (const page of decisions.scan(f)) {
            pages.push(page.length);
            yield page;
          }
        },
      }),
    },
  };
}

describe('live impact report over a SQLite decision log', () => {
  let dir: string;
  let stores: SqliteStores;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'relaygate-impact-'));
    stores = openSqliteStores({ dataDir: dir });
  });
  after(async () => {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('1,000,000 decisions: one page of rows held at a time, one group per distinct key, live heap bounded', async () => {
    const N = 1_000_000;
    // 41 sources × 5 P1 domains × 4 kinds of verdicts (legacy-only, newly refused, two untouched): moduli prime to each other, so every combination occurs.
    stores.db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${N - 1})
      INSERT INTO decisions (at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from, recipient,
        verdict, reply, rule_set, current_verdict, legacy_verdict, certificate_name, header_from_domain, remedies, steps)
      SELECT ${NOW - 10 * DAY} + i * 60, 's' || i, NULL, '192.0.2.' || (i % 41), '01JH0000000000000000000001', 'contoso', 'apps', 'ip',
        'app@p1-' || (i % 5) || '.example', 'x@elsewhere.example',
        CASE i % 4 WHEN 0 THEN 'relay' WHEN 1 THEN 'rejected' WHEN 2 THEN 'relay' ELSE 'rejected' END,
        CASE i % 4 WHEN 1 THEN '550 5.7.64 TenantAttribution; Relay Access Denied' WHEN 3 THEN '550 5.7.64 TenantAttribution; Relay Access Denied' ELSE '250 2.1.5 Recipient OK' END,
        CASE i % 4 WHEN 0 THEN 'legacy' ELSE '2023-11' END,
        CASE i % 4 WHEN 2 THEN 'relay' ELSE 'rejected' END,
        CASE i % 4 WHEN 0 THEN 'relay' WHEN 1 THEN 'pending' WHEN 2 THEN 'relay' ELSE 'rejected' END,
        NULL, CASE i % 4 WHEN 0 THEN 'contoso.com' ELSE NULL END,
        CASE WHEN i % 4 < 2 THEN '${REMEDIES}' ELSE '[]' END,
        '{"steps":[{"id":"S5","detail":"a step of the workflow chart, kept out of the scan"}]}'
      FROM n;
    `);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let progressCalls = 0;
    const { store, pages } = watched(stores.decisions);
    const service = new ImpactReportService({ decisions: store, directory: stores.directory }, new ManualClock(new Date(NOW)));
    const { items } = await service.report(
      { since: '30d' },
      {
        pageSize: 1000,
        onProgress: (read, total) => {
          assert.equal(total, N / 2, 'the store hands over only what the rule change can touch');
          if (++progressCalls % 50 === 0 || read === N / 2) {
            gc();
            peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
          }
        },
      },
    );
    const { groups, totals } = await collect(items);
    assert.deepEqual(totals, { decisions: N, legacyOnly: N / 4, newlyRefused: N / 4, groups: 410, ungrouped: 0 });
    assert.equal(groups.length, 410, '41 sources × 5 P1 domains × 2 kinds of impact');
    assert.equal(groups.reduce((sum, g) => sum + g.messages, 0), N / 2);
    assert.ok(groups.every((g) => g.messages === Math.floor(N / 820) || g.messages === Math.ceil(N / 820)));
    assert.equal(pages.length, N / 2 / 1000);
    assert.equal(Math.max(...pages), 1000, 'never more than one page of decisions at once');
    assert.deepEqual(new Set(groups.map((g) => `${g.impact} ${g.p2Domain} ${g.remedies.map((r) => r.rank).join('')}`)), new Set(['legacy-only contoso.com 13', 'newly-refused null 13']));
    // A million rows held at once would be hundreds of MiB; a page and 410 groups are well under this.
    assert.ok(peak < 64 * 1024 * 1024, `live heap grew by ${(peak / 1048576).toFixed(1)} MiB while reading ${N} decisions`);
    stores.db.exec('DELETE FROM decisions');
  });

  it('checks its input before reading anything: --since, --until, the tenant', async () => {
    const service = new ImpactReportService(stores, new ManualClock(new Date(NOW)));
    const refused = async (input: Parameters<ImpactReportService['report']>[0]): Promise<[string, string, unknown]> => {
      try {
        await service.report(input);
      } catch (err) {
        assert.ok(err instanceof RelaygateError);
        return [err.code, err.message, err.details['field']];
      }
      assert.fail('accepted');
    };
    assert.deepEqual(await refused({ since: '3 weeks' }), ['invalid', 'since "3 weeks" is not a duration (30d, 12h, 90m, 2w) or an ISO 8601 date or instant (2026-11-01, 2026-11-01T08:00:00Z)', 'since']);
    assert.deepEqual(await refused({ until: '30d' }), ['invalid', 'until "30d" is not an ISO 8601 date or instant (2026-11-01, 2026-11-01T08:00:00Z)', 'until']);
    assert.deepEqual(await refused({ since: '0d' }), ['invalid', 'the range is empty: since 0d (2026-12-01T12:00:00.000Z) is not before until 2026-12-01T12:00:00.000Z', 'since']);
    assert.deepEqual(await refused({ tenant: 'nobody' }), ['not-found', 'tenant nobody does not exist', 'tenant']);
    const { query } = await service.report({ since: '2w', tenant: '01jh0000000000000000000009' });
    assert.deepEqual(query, { tenant: { id: '01JH0000000000000000000009', name: null }, since: '2026-11-17T12:00:00.000Z', until: '2026-12-01T12:00:00.000Z' });
  });

  it("a removed tenant's decisions are found by its id, in the time range, and the group cap counts what it leaves out", async () => {
    const removed = '01JH0000000000000000000009';
    const row = (i: number, at: number): string =>
      `(${at}, 's${i}', '192.0.2.${i}', '${removed}', 'gone', 'apps', 'ip', 'app@vendor.example', 'x@elsewhere.example', 'rejected', '550', '2023-11', 'rejected', 'pending', '[]', '[]')`;
    stores.db.exec(`INSERT INTO decisions (at, session_id, client_ip, tenant_id, tenant, connector, attribution, mail_from, recipient, verdict, reply,
      rule_set, current_verdict, legacy_verdict, remedies, steps) VALUES ${[row(1, NOW - 40 * DAY), row(2, NOW - DAY), row(3, NOW - DAY), row(4, NOW - 1000)].join(', ')}`);
    const service = new ImpactReportService(stores, new ManualClock(new Date(NOW)));
    const { groups, totals } = await collect((await service.report({ tenant: removed }, { maxGroups: 2 })).items);
    assert.deepEqual(totals, { decisions: 3, legacyOnly: 0, newlyRefused: 3, groups: 2, ungrouped: 1 });
    assert.deepEqual(groups.map((g) => [g.source, g.tenant, g.verdictBefore]), [['192.0.2.2', 'gone', 'pending'], ['192.0.2.3', 'gone', 'pending']]);
    stores.db.exec('DELETE FROM decisions');
  });
});
