/**
 * The QueueAdminStore contract: selection with filters and paging, guarded transitions, deletion.
 * Every adapter runs it against a real database (sqlite/queue-store.test.ts). Which transitions an
 * operator may ask for is queue/admin.ts's business; the store only keeps the guard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accepted, T0, type OpenedQueue } from './queue-contract.js';

const MINUTE = 60_000;

export function queueAdminStoreContract(adapter: string, open: () => Promise<OpenedQueue>): void {
  const withQueue = (name: string, fn: (o: OpenedQueue) => Promise<void>): void => {
    test(`${adapter} queue admin store: ${name}`, async () => {
      const opened = await open();
      try {
        await fn(opened);
      } finally {
        await opened.close();
      }
    });
  };

  withQueue('select shows everything stored of a message, its recipients in order', async ({ queue, admin }) => {
    const m = accepted({}, ['a@remote.test', { address: 'b@other.test', notify: 'NEVER', orcpt: 'rfc822;b@other.test', state: 'failed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsnStatus: 'suppressed' }]);
    await queue.commit({ messages: [m], decisions: [] });
    const [entry, ...more] = await admin.select({}, { limit: 10 });
    assert.deepEqual(more, []);
    assert.deepEqual(entry?.message, {
      id: m.id, kind: 'mail', tenantId: null, tenant: 'contoso', attribution: 'ip', directionality: 'Originating', mailFrom: 'alice@contoso.test',
      envId: 'ENV1', ret: 'HDRS', bodyType: '8BITMIME', smtputf8: false, size: 123, headerFrom: 'alice@contoso.test', receivedAt: T0,
      outsideRecipients: 2, connector: 'apps', clientIp: '192.0.2.7', clientHelo: 'app.contoso.test', tls: 'TLSv1.3 TLS_AES_256_GCM_SHA384', subject: 'hello',
      messageIdHeader: '<1@contoso.test>',
    });
    assert.deepEqual(
      entry?.recipients.map(({ id: _id, ...r }) => r),
      [
        {
          messageId: m.id, address: 'a@remote.test', domain: 'remote.test', notify: null, orcpt: null, relayed: true, state: 'queued', attempts: 0, lastReply: null,
          lastAttemptAt: null, lastRemoteMta: null, nextAttemptAt: T0, dsnStatus: null, delayNoticeSent: false, lease: null,
        },
        {
          messageId: m.id, address: 'b@other.test', domain: 'other.test', notify: 'NEVER', orcpt: 'rfc822;b@other.test', relayed: true, state: 'failed', attempts: 0,
          lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', lastAttemptAt: null, lastRemoteMta: null, nextAttemptAt: T0,
          dsnStatus: 'suppressed', delayNoticeSent: false, lease: null,
        },
      ],
    );
  });

  withQueue('select pages by queue id: oldest first, after the last one seen', async ({ queue, admin }) => {
    const messages = Array.from({ length: 7 }, (_, i) => accepted({ receivedAt: T0 + i * MINUTE }));
    await queue.commit({ messages: [...messages].reverse(), decisions: [] });
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const entries = await admin.select({}, { limit: 3, ...(after !== undefined ? { after } : {}) });
      if (entries.length === 0) break;
      assert.ok(entries.length <= 3);
      seen.push(...entries.map((e) => e.message.id));
      after = entries.at(-1)!.message.id;
    }
    assert.deepEqual(seen, messages.map((m) => m.id));
  });

  withQueue('filters narrow by ids, tenant id, a recipient domain or state, and age; a match brings all its recipients', async ({ queue, admin, directory }) => {
    for (const name of ['contoso', 'fabrikam']) await directory.addTenant({ name });
    const [contosoId, fabrikamId] = (await directory.load()).tenants.map((t) => t.id);
    const old = accepted({ tenantId: contosoId!, receivedAt: T0 - 5 * 60 * MINUTE }, ['a@remote.test', 'b@other.test']);
    const fabrikam = accepted({ tenantId: fabrikamId!, tenant: 'fabrikam' }, ['c@other.test']);
    const held = accepted({ tenantId: contosoId! }, ['d@remote.test']);
    await queue.commit({ messages: [old, fabrikam, held], decisions: [] });
    await admin.transition({ ids: (await admin.select({ ids: [held.id] }, { limit: 1 }))[0]!.recipients.map((r) => r.id), from: ['queued'], to: 'held' }, T0);
    const ids = async (filter: Parameters<typeof admin.select>[0]) => (await admin.select(filter, { limit: 10 })).map((e) => e.message.id);
    assert.deepEqual(await ids({ ids: [held.id, fabrikam.id] }), [fabrikam.id, held.id].sort());
    assert.deepEqual(await ids({ ids: [] }), [], 'no id names no message');
    assert.deepEqual(await ids({ tenantId: fabrikamId! }), [fabrikam.id]);
    assert.deepEqual(await ids({ domain: 'other.test' }), [old.id, fabrikam.id].sort());
    assert.deepEqual(await ids({ state: 'held' }), [held.id]);
    assert.deepEqual(await ids({ receivedBefore: T0 - 4 * 60 * MINUTE }), [old.id]);
    assert.deepEqual(await ids({ tenantId: contosoId!, domain: 'other.test' }), [old.id]);
    assert.deepEqual((await admin.select({ domain: 'other.test', tenantId: contosoId! }, { limit: 10 }))[0]?.recipients.map((r) => r.address), ['a@remote.test', 'b@other.test']);
  });

  // The tenant filter is the tenant's id (QueueFilter.tenantId), matched against the id the message
  // was queued under, never the name stored with it: that name is the one of its acceptance.
  withQueue('the tenant filter matches the id the message was queued under: through a rename, not by the stored name', async ({ queue, admin, directory }) => {
    await directory.addTenant({ name: 'contoso' });
    const [tenant] = (await directory.load()).tenants;
    const before = accepted({ tenantId: tenant!.id, tenant: 'contoso' });
    const untenanted = accepted({ tenantId: null, tenant: 'contoso' });
    await queue.commit({ messages: [before, untenanted], decisions: [] });
    await directory.replace({ tenants: [{ ...tenant!, name: 'Northwind' }] });
    const after = accepted({ tenantId: tenant!.id, tenant: 'Northwind' });
    await queue.commit({ messages: [after], decisions: [] });
    const ids = async (filter: Parameters<typeof admin.select>[0]) => (await admin.select(filter, { limit: 10 })).map((e) => e.message.id);
    assert.deepEqual(await ids({ tenantId: tenant!.id }), [before.id, after.id].sort(), 'a message without a tenant id is not the tenant\'s');
    assert.deepEqual(await ids({ tenantId: '01JGZZZZZZZZZZZZZZZZZZZZZZ' }), []);
  });

  withQueue('a transition moves only the recipients still in one of its source states, and sets what it names', async ({ queue, admin }) => {
    const m = accepted({}, ['a@remote.test', 'b@remote.test', 'c@remote.test']);
    await queue.commit({ messages: [m], decisions: [] });
    const [a, b, c] = (await admin.select({}, { limit: 1 }))[0]!.recipients.map((r) => r.id);
    // A delivery leases c: the operator's action must leave it to the delivery.
    const leased = await queue.claimDue('node-a', T0, MINUTE, 10);
    await queue.record('node-a', leased.flatMap((w) => w.recipients.filter((r) => r.id !== c).map((r) => ({ id: r.id, generation: r.generation, state: 'deferred' as const, reply: '451 4.2.0 busy', remoteMta: 'mx.remote.test', attempted: true, nextAttemptAt: T0 + 30 * MINUTE }))), T0);
    assert.equal(await admin.transition({ ids: [a!, b!, c!], from: ['queued', 'deferred'], to: 'failed', reply: '554 5.0.0 Message returned by the relay operator', dsnStatus: 'owed' }, T0 + MINUTE), 2);
    assert.equal(await admin.transition({ ids: [a!], from: ['queued', 'deferred'], to: 'queued', nextAttemptAt: T0 }, T0 + MINUTE), 0, 'a failed recipient is final');
    const [entry] = await admin.select({}, { limit: 1 });
    assert.deepEqual(
      entry?.recipients.map((r) => [r.state, r.lastReply, r.lastRemoteMta, r.dsnStatus, r.attempts]),
      [
        ['failed', '554 5.0.0 Message returned by the relay operator', null, 'owed', 1],
        ['failed', '554 5.0.0 Message returned by the relay operator', null, 'owed', 1],
        ['inflight', null, null, null, 0],
      ],
    );
  });

  withQueue('hold and release: a transition without a reply keeps the last one; nextAttemptAt makes it due', async ({ queue, admin }) => {
    const m = accepted({}, ['a@remote.test']);
    await queue.commit({ messages: [m], decisions: [] });
    const [work] = await queue.claimDue('node-a', T0, MINUTE, 10);
    const { id, generation } = work!.recipients[0]!;
    await queue.record('node-a', [{ id, generation, state: 'deferred', reply: '451 4.2.0 busy', remoteMta: 'mx.remote.test', attempted: true, nextAttemptAt: T0 + 60 * MINUTE }], T0);
    assert.equal(await admin.transition({ ids: [id], from: ['queued', 'deferred'], to: 'held' }, T0 + MINUTE), 1);
    assert.deepEqual(await queue.claimDue('node-a', T0 + 2 * 60 * MINUTE, MINUTE, 10), [], 'a held recipient is never claimed');
    assert.equal(await admin.transition({ ids: [id], from: ['held'], to: 'queued', nextAttemptAt: T0 + 2 * MINUTE }, T0 + 2 * MINUTE), 1);
    const [entry] = await admin.select({}, { limit: 1 });
    assert.deepEqual(entry?.recipients.map((r) => [r.state, r.lastReply, r.lastRemoteMta, r.nextAttemptAt, r.attempts]), [['queued', '451 4.2.0 busy', 'mx.remote.test', T0 + 2 * MINUTE, 1]]);
    assert.equal((await queue.claimDue('node-a', T0 + 2 * MINUTE, MINUTE, 10)).length, 1);
    assert.equal(await admin.transition({ ids: [], from: ['held'], to: 'queued' }, T0), 0);
  });

  withQueue('deleting removes messages with their recipients and counts only those that were there', async ({ queue, admin }) => {
    const [a, b] = [accepted({}, ['a@remote.test', 'b@remote.test']), accepted()];
    await queue.commit({ messages: [a, b], decisions: [] });
    assert.equal(await admin.deleteMessages([a.id, 'nosuchmessage000000']), 1);
    assert.equal(await admin.deleteMessages([a.id]), 0);
    assert.deepEqual((await admin.select({}, { limit: 10 })).map((e) => e.message.id), [b.id]);
    assert.deepEqual(await queue.existingMessages([a.id]), new Set());
    assert.deepEqual((await queue.claimDue('node-a', T0, MINUTE, 10)).map((w) => w.message.id), [b.id], 'no recipient of a is left');
  });
}
