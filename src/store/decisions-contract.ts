/**
 * The DecisionStore contract: the decision log, appended on its own or with a message's commit
 * (queue-contract.ts checks that part), read newest first. Every adapter runs it against a real
 * database (sqlite/queue-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decision, type OpenedQueue } from './queue-contract.js';

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
    const first = decision({ steps: '[{"step":"A1","detail":"ü"}]' });
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
}
