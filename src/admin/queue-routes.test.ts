import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminHarness } from '../../test/support/admin-api.js';
import { formatReply, Replies } from '../core/reply.js';
import { problemSchema } from './problem.js';

function problem(r: { status: number; json(): any }, status: number, type: string, detail?: string): void {
  const p = problemSchema.parse(r.json());
  assert.deepEqual([r.status, p.type, ...(detail === undefined ? [] : [p.detail])], [status, type, ...(detail === undefined ? [] : [detail])]);
}

test('queue list and show: an admin sees every message, a tenant token only its own; another tenant\'s queue id is not found', async () => {
  const h = await adminHarness();
  try {
    const all = await h.inject('GET', '/v1/queue', { token: h.tokens.adminRead });
    assert.deepEqual(all.json().map((m: { id: string }) => m.id), [...h.messages.contoso, ...h.messages.fabrikam]);
    const own = await h.inject('GET', '/v1/queue', { token: h.tokens.fabrikam });
    assert.deepEqual(own.json().map((m: { id: string; tenant: string }) => [m.id, m.tenant]), [[h.messages.fabrikam[0], 'fabrikam']]);
    problem(await h.inject('GET', '/v1/queue?tenant=contoso', { token: h.tokens.fabrikam }), 404, 'not-found', 'tenant contoso does not exist');
    assert.equal((await h.inject('GET', `/v1/queue?tenant=${h.contoso.id}&limit=1`, { token: h.tokens.admin })).json().length, 1);
    const page = await h.inject('GET', `/v1/queue?after=${h.messages.contoso[0]}`, { token: h.tokens.admin });
    assert.deepEqual(page.json().map((m: { id: string }) => m.id), [h.messages.contoso[1], h.messages.fabrikam[0]]);
    const shown = await h.inject('GET', `/v1/queue/${h.messages.fabrikam[0]}`, { token: h.tokens.fabrikam });
    assert.equal(shown.status, 200);
    assert.equal(shown.json().headers, 'From: alice@contoso.test\r\nSubject: secret');
    assert.deepEqual(shown.json().recipients.map((r: { address: string; state: string }) => `${r.address}:${r.state}`), ['e@remote.test:queued', 'f@other.test:queued']);
    for (const id of h.messages.contoso) {
      problem(await h.inject('GET', `/v1/queue/${id}`, { token: h.tokens.fabrikam }), 404, 'not-found', `message ${id} is not in the queue`);
    }
    problem(await h.inject('GET', '/v1/queue/nosuchmessage0000000', { token: h.tokens.fabrikam }), 404, 'not-found', 'message nosuchmessage0000000 is not in the queue');
    problem(await h.inject('GET', '/v1/queue?state=lost', { token: h.tokens.admin }), 400, 'invalid');
    problem(await h.inject('GET', '/v1/queue?olderThan=soon', { token: h.tokens.admin }), 400, 'invalid', 'expected a duration such as 30m, 4h or 2d, got "soon"');
  } finally {
    await h.close();
  }
});

test('queue actions on one message: hold, release, retry, bounce, delete, each recorded; none on another tenant\'s message', async () => {
  const h = await adminHarness();
  try {
    const [first, second] = h.messages.contoso as [string, string];
    const held = await h.inject('POST', `/v1/queue/${first}/hold`, { token: h.tokens.contoso });
    assert.equal(held.status, 200, held.body);
    assert.deepEqual([held.json().action, held.json().recipients, held.json().message.recipients.map((r: { state: string }) => r.state)], ['hold', 2, ['held', 'held']]);
    assert.equal((await h.inject('POST', `/v1/queue/${first}/retry`, { token: h.tokens.contoso })).json().recipients, 0, 'held recipients are not retried');
    assert.equal((await h.inject('POST', `/v1/queue/${first}/release`, { token: h.tokens.contoso })).json().recipients, 2);
    const bounced = await h.inject('POST', `/v1/queue/${second}/bounce`, { token: h.tokens.admin });
    assert.deepEqual(bounced.json().message.recipients.map((r: { state: string; lastReply: string }) => [r.state, r.lastReply]), [
      ['failed', formatReply(Replies.operatorBounce)],
      ['failed', formatReply(Replies.operatorBounce)],
    ]);
    problem(await h.inject('POST', `/v1/queue/${first}/explode`, { token: h.tokens.admin }), 400, 'invalid');
    for (const action of ['hold', 'release', 'retry', 'bounce']) {
      problem(await h.inject('POST', `/v1/queue/${h.messages.fabrikam[0]}/${action}`, { token: h.tokens.contoso }), 404, 'not-found', `message ${h.messages.fabrikam[0]} is not in the queue`);
    }
    problem(await h.inject('DELETE', `/v1/queue/${h.messages.fabrikam[0]}`, { token: h.tokens.contoso }), 404, 'not-found');
    const deleted = await h.inject('DELETE', `/v1/queue/${first}`, { token: h.tokens.contoso });
    assert.deepEqual(deleted.json(), { action: 'delete', messages: 1 });
    problem(await h.inject('GET', `/v1/queue/${first}`, { token: h.tokens.admin }), 404, 'not-found');
    assert.equal(await h.stores.bodies.open(first), null, 'the body went with it');
    const fabrikam = (await h.stores.queueAdmin.select({ ids: h.messages.fabrikam }, { limit: 1 }))[0]!;
    assert.deepEqual(fabrikam.recipients.map((r) => r.state), ['queued', 'queued']);
    const audit = (await h.inject('GET', '/v1/audit', { token: h.tokens.admin })).json() as Array<{ action: string; target: string; before: any; after: any }>;
    assert.deepEqual(audit.map((a) => a.action), [
      'DELETE /v1/queue/{id}', 'POST /v1/queue/{id}/{action}', 'POST /v1/queue/{id}/{action}', 'POST /v1/queue/{id}/{action}', 'POST /v1/queue/{id}/{action}',
    ]);
    assert.equal(audit[4]!.target, `/v1/queue/${first}/hold`);
    assert.deepEqual([audit[4]!.before.recipients[0].state, audit[4]!.after.recipients[0].state], ['queued', 'held']);
    const byWhom = async (id: string) => (await h.stores.trace.story(id)).flatMap((e) => ('by' in e ? [`${e.kind} ${e.by}`] : []));
    const contoso = `api:${h.tokenIds.contoso}`;
    assert.deepEqual(await byWhom(first), [`held cli:test`, `held ${contoso}`, `held ${contoso}`, `released ${contoso}`, `released ${contoso}`, `deleted ${contoso}`]);
    assert.deepEqual(await byWhom(second), [`held cli:test`, `operator-bounced api:${h.tokenIds.admin}`, `operator-bounced api:${h.tokenIds.admin}`]);
  } finally {
    await h.close();
  }
});

test('bulk queue actions by filter: the dry run counts and changes nothing; the action then moves exactly that; a tenant token acts on its own only', async () => {
  const h = await adminHarness();
  try {
    const bulk = (token: string, body: unknown) => h.inject('POST', '/v1/queue/actions', { token, body });
    const states = async () => (await h.stores.queueAdmin.select({}, { limit: 10 })).map((e) => e.recipients.map((r) => r.state).join(','));
    const dry = await bulk(h.tokens.admin, { action: 'hold', filter: { domain: 'remote.test' }, dryRun: true });
    assert.deepEqual(dry.json(), { action: 'hold', dryRun: true, messages: 3, recipients: 3 });
    assert.deepEqual(await states(), ['queued,queued', 'queued,queued', 'queued,queued'], 'a dry run changes nothing');
    assert.deepEqual((await bulk(h.tokens.admin, { action: 'hold', filter: { domain: 'remote.test' } })).json(), { action: 'hold', dryRun: false, messages: 3, recipients: 3 });
    assert.deepEqual(await states(), ['held,queued', 'held,queued', 'held,queued']);
    // A tenant token's "all" is its own tenant's mail.
    assert.deepEqual((await bulk(h.tokens.fabrikam, { action: 'release', filter: { all: true }, dryRun: true })).json(), { action: 'release', dryRun: true, messages: 1, recipients: 1 });
    assert.deepEqual((await bulk(h.tokens.fabrikam, { action: 'delete', filter: { all: true } })).json(), { action: 'delete', dryRun: false, messages: 1, recipients: 2 });
    assert.deepEqual(await states(), ['held,queued', 'held,queued']);
    problem(await bulk(h.tokens.fabrikam, { action: 'delete', filter: { ids: [h.messages.contoso[0]] } }), 404, 'not-found', `message ${h.messages.contoso[0]} is not in the queue; nothing was changed`);
    problem(await bulk(h.tokens.fabrikam, { action: 'bounce', filter: { tenant: 'contoso' }, dryRun: true }), 404, 'not-found', 'tenant contoso does not exist');
    problem(await bulk(h.tokens.contoso, { action: 'hold', filter: {} }), 400, 'invalid', 'name message ids or a filter (tenant, domain, state, olderThan), or set "all": true');
    problem(await bulk(h.tokens.contoso, { action: 'nuke', filter: { all: true } }), 400, 'invalid');
    problem(await bulk(h.tokens.contosoRead, { action: 'hold', filter: { all: true }, dryRun: true }), 403, 'forbidden', 'this token is read-only');
    assert.deepEqual(await states(), ['held,queued', 'held,queued']);
    const release = await bulk(h.tokens.contoso, { action: 'release', filter: { state: 'held', olderThan: '45m' } });
    assert.deepEqual(release.json(), { action: 'release', dryRun: false, messages: 1, recipients: 1 }, 'only the message received an hour ago');
  } finally {
    await h.close();
  }
});
