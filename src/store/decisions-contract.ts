/**
 * The DecisionStore contract: the decision log, appended on its own or with a message's commit
 * (queue-contract.ts checks that part), read newest first. Every adapter runs it against a real
 * database (sqlite/queue-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decision, type OpenedQueue } from './queue-contract.js';
import type { DecisionScanFilter, DecisionStore, ScannedDecision } from './ports.js';

const CONTOSO = '01JH0000000000000000000001';
const FABRIKAM = '01JH0000000000000000000002';

export function decisionStoreContract(adapter: string, open: () => Promise<OpenedQueue>): void {
  const withLog = (name: string, fn: (o: OpenedQueue) => Promise<void>): void => {
    test(`${adapter} decision store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withLog('an appended decision reads back whole, with an id; newest first', async ({ decisions }) => {
    const first = decision({
      steps: '[{"step":"A1","detail":"ü"}]',
      certificateName: 'mail.contoso.test',
      headerFromDomain: 'contoso.test',
      remedies: [{ rank: 1, text: 'Use a certificate "connector"' }, { rank: 3, text: 'Envelope sender ü' }],
    });
    const second = decision({ sessionId: 's2', messageId: null, tenant: null, connector: null, attribution: 'none', mailFrom: null, recipient: null, verdict: 'rejected', reply: '550 5.7.64 TenantAttribution; Relay Access Denied', currentVerdict: 'rejected', legacyVerdict: 'relay' });
    await decisions.append([first]);
    await decisions.append([second]);
    const listed = await decisions.list();
    assert.deepEqual(listed.map(({ id: _id, ...d }) => d), [second, first]);
    assert.ok(listed[0]!.id > listed[1]!.id, 'ids grow with every append');
    await decisions.append([]);
    assert.equal((await decisions.list()).length, 2);
  });

  withLog('filters: by message, session and tenant id (under every name it had); a limit, and paging back with before', async ({ decisions }) => {
    await decisions.append([
      decision({ sessionId: 's1', messageId: 'm1', tenantId: CONTOSO, tenant: 'contoso' }),
      decision({ sessionId: 's1', messageId: null, tenantId: CONTOSO, tenant: 'contoso', recipient: 'x@elsewhere.test' }),
      decision({ sessionId: 's2', messageId: 'm2', tenantId: FABRIKAM, tenant: 'fabrikam' }),
      decision({ sessionId: 's3', messageId: 'm3', tenantId: CONTOSO, tenant: 'Northwind' }),
      decision({ sessionId: 's4', messageId: 'm4', tenantId: null, tenant: 'contoso' }),
    ]);
    const sessions = async (filter: Parameters<typeof decisions.list>[0]) => (await decisions.list(filter)).map((d) => `${d.sessionId}/${d.messageId ?? '-'}`);
    assert.deepEqual(await sessions({ messageId: 'm2' }), ['s2/m2']);
    assert.deepEqual(await sessions({ sessionId: 's1' }), ['s1/-', 's1/m1']);
    assert.deepEqual(await sessions({ tenantId: CONTOSO }), ['s3/m3', 's1/-', 's1/m1']);
    assert.deepEqual(await sessions({ tenantId: CONTOSO, sessionId: 's1', limit: 1 }), ['s1/-']);
    const [newest] = await decisions.list({ limit: 1 });
    assert.deepEqual(await sessions({ before: newest!.id, limit: 3 }), ['s3/m3', 's2/m2', 's1/-']);
  });

  withLog("a decision keeps the tenant's id and the name it had, after a rename and after the removal", async ({ decisions, directory }) => {
    await directory.addTenant({ name: 'contoso' });
    const [tenant] = (await directory.load()).tenants;
    await decisions.append([decision({ tenantId: tenant!.id, tenant: 'contoso' })]);
    await directory.replace({ tenants: [{ ...tenant!, name: 'Northwind' }] });
    await directory.removeTenant('Northwind');
    assert.deepEqual((await decisions.list({ tenantId: tenant!.id })).map((d) => [d.tenantId, d.tenant]), [[tenant!.id, 'contoso']]);
  });

  withLog('at most 100 unless asked for more', async ({ decisions }) => {
    await decisions.append(Array.from({ length: 120 }, (_, i) => decision({ sessionId: `s${i}` })));
    assert.equal((await decisions.list()).length, 100);
    assert.equal((await decisions.list({ limit: 500 })).length, 120);
    assert.equal((await decisions.list())[0]!.sessionId, 's119');
  });

  withLog('a scan reads every decision oldest first, in pages of pageSize, with the typed columns and without the steps', async ({ decisions }) => {
    assert.deepEqual(await scanned(decisions), { pages: [], rows: [] }, 'an empty log: no page');
    const remedies = [{ rank: 2, text: 'Add the certificate host name mail.contoso.test as an accepted domain of contoso.' }];
    await decisions.append(Array.from({ length: 7 }, (_, i) =>
      decision({ sessionId: `s${i}`, certificateName: i % 2 ? 'mail.contoso.test' : null, headerFromDomain: i === 3 ? 'contoso.test' : null, remedies: i === 5 ? remedies : [] })));
    const { pages, rows } = await scanned(decisions, { pageSize: 3 });
    assert.deepEqual(pages, [3, 3, 1]);
    assert.deepEqual(rows.map((d) => d.sessionId), ['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    assert.ok(rows.every((d, i) => i === 0 || d.id > rows[i - 1]!.id), 'ids grow');
    assert.ok(rows.every((d) => !('steps' in d)), 'the steps stay out of a scan');
    const [listed] = await decisions.list({ sessionId: 's5' });
    const { steps: _steps, ...withoutSteps } = listed!;
    assert.deepEqual(rows[5], withoutSteps);
    assert.deepEqual(rows.map((d) => [d.certificateName, d.headerFromDomain, d.remedies.length]), [
      [null, null, 0], ['mail.contoso.test', null, 0], [null, null, 0], ['mail.contoso.test', 'contoso.test', 0],
      [null, null, 0], ['mail.contoso.test', null, 1], [null, null, 0],
    ]);
    assert.deepEqual(rows[5]!.remedies, remedies);
    assert.deepEqual((await scanned(decisions, { pageSize: 7 })).pages, [7], 'a full last page is not followed by an empty one');
  });

  withLog('a scan filters by tenant id (under every name it had), by time (since inclusive, until exclusive) and by the verdicts under each rule set', async ({ decisions }) => {
    const at = (n: number): number => 1_800_000_000_000 + n * 1000;
    await decisions.append([
      decision({ sessionId: 'a', at: at(5), tenantId: CONTOSO, tenant: 'contoso' }),
      decision({ sessionId: 'b', at: at(1), tenantId: FABRIKAM, tenant: 'fabrikam' }),
      decision({ sessionId: 'c', at: at(2), tenantId: CONTOSO, tenant: 'Northwind' }),
      decision({ sessionId: 'd', at: at(9), tenantId: null, tenant: null }),
      decision({ sessionId: 'e', at: at(3), tenantId: CONTOSO, tenant: 'contoso', currentVerdict: 'rejected', legacyVerdict: 'pending' }),
      decision({ sessionId: 'f', at: at(4), tenantId: CONTOSO, tenant: 'contoso', currentVerdict: 'rejected', legacyVerdict: 'relay' }),
      decision({ sessionId: 'g', at: at(4), tenantId: FABRIKAM, tenant: 'fabrikam', currentVerdict: 'rejected', legacyVerdict: 'rejected' }),
    ]);
    const sessions = async (filter: DecisionScanFilter): Promise<string> => {
      const read = (await scanned(decisions, { pageSize: 2, ...filter })).rows.map((d) => d.sessionId).join('');
      assert.equal(await decisions.count(filter), read.length, 'count says how many the scan reads');
      return read;
    };
    assert.equal(await sessions({}), 'abcdefg');
    assert.equal(await sessions({ tenantId: CONTOSO }), 'acef');
    assert.equal(await sessions({ since: at(3) }), 'adefg', 'since is inclusive; the order stays the ids\'');
    assert.equal(await sessions({ until: at(3) }), 'bc', 'until is exclusive');
    assert.equal(await sessions({ tenantId: CONTOSO, since: at(2), until: at(5) }), 'cef');
    assert.equal(await sessions({ tenantId: FABRIKAM, since: at(2) }), 'g');
    assert.equal(await sessions({ currentVerdicts: ['rejected'] }), 'efg');
    assert.equal(await sessions({ currentVerdicts: ['rejected'], legacyVerdicts: ['relay', 'pending'] }), 'ef');
    assert.equal(await sessions({ currentVerdicts: ['rejected'], legacyVerdicts: ['pending'], tenantId: CONTOSO, since: at(3) }), 'e');
    assert.equal(await sessions({ currentVerdicts: [] }), '', 'an empty list matches nothing');
    assert.equal(await sessions({ tenantId: '01JH0000000000000000000009' }), '');
  });

  withLog('a scan sees the decisions that existed when it started: ones appended meanwhile wait for the next scan', async ({ decisions }) => {
    await decisions.append(Array.from({ length: 5 }, (_, i) => decision({ sessionId: `old${i}` })));
    const seen: string[] = [];
    for await (const page of decisions.scan({ pageSize: 2 })) {
      seen.push(...page.map((d) => d.sessionId));
      await decisions.append([decision({ sessionId: `new${seen.length}` })]);
    }
    assert.deepEqual(seen, ['old0', 'old1', 'old2', 'old3', 'old4']);
    assert.equal((await scanned(decisions)).rows.length, 8, 'the next scan reads them');
  });
}

async function scanned(decisions: DecisionStore, filter?: DecisionScanFilter): Promise<{ pages: number[]; rows: ScannedDecision[] }> {
  const pages: number[] = [];
  const rows: ScannedDecision[] = [];
  for await (const page of decisions.scan(filter)) {
    pages.push(page.length);
    rows.push(...page);
  }
  return { pages, rows };
}
