/**
 * The DecisionStore contract: the decision log, appended on its own or with a message's commit
 * (queue-contract.ts checks that part), read newest first. Every adapter runs it against a real
 * database (sqlite/queue-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decision, type OpenedQueue } from './queue-contract.js';

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

  withLog('filters: by message, session and tenant; a limit, and paging back with before', async ({ decisions }) => {
    await decisions.append([
      decision({ sessionId: 's1', messageId: 'm1', tenant: 'contoso' }),
      decision({ sessionId: 's1', messageId: null, tenant: 'contoso', recipient: 'x@elsewhere.test' }),
      decision({ sessionId: 's2', messageId: 'm2', tenant: 'fabrikam' }),
      decision({ sessionId: 's3', messageId: 'm3', tenant: 'contoso' }),
    ]);
    const sessions = async (filter: Parameters<typeof decisions.list>[0]) => (await decisions.list(filter)).map((d) => `${d.sessionId}/${d.messageId ?? '-'}`);
    assert.deepEqual(await sessions({ messageId: 'm2' }), ['s2/m2']);
    assert.deepEqual(await sessions({ sessionId: 's1' }), ['s1/-', 's1/m1']);
    assert.deepEqual(await sessions({ tenant: 'contoso' }), ['s3/m3', 's1/-', 's1/m1']);
    assert.deepEqual(await sessions({ tenant: 'contoso', sessionId: 's1', limit: 1 }), ['s1/-']);
    const [newest] = await decisions.list({ limit: 1 });
    assert.deepEqual(await sessions({ before: newest!.id, limit: 2 }), ['s2/m2', 's1/-']);
  });

  withLog('at most 100 unless asked for more', async ({ decisions }) => {
    await decisions.append(Array.from({ length: 120 }, (_, i) => decision({ sessionId: `s${i}` })));
    assert.equal((await decisions.list()).length, 100);
    assert.equal((await decisions.list({ limit: 500 })).length, 120);
    assert.equal((await decisions.list())[0]!.sessionId, 's119');
  });
}
