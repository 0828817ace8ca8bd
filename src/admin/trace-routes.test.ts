import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminHarness } from '../../test/support/admin-api.js';
import { runCliCaptured } from '../cli/testing.js';
import { problemSchema } from './problem.js';

function problem(r: { status: number; json(): any }, status: number, type: string, detail?: string): void {
  const p = problemSchema.parse(r.json());
  assert.deepEqual([r.status, p.type, ...(detail === undefined ? [] : [p.detail])], [status, type, ...(detail === undefined ? [] : [detail])]);
}

test('trace search and story through TraceSearchService: an admin sees all, a tenant token its own tenant\'s events only', async () => {
  const h = await adminHarness();
  try {
    const all = await h.inject('GET', '/v1/trace', { token: h.tokens.adminRead });
    assert.equal(all.status, 200, all.body);
    assert.deepEqual(all.json().events.map((e: { queueId: string }) => e.queueId), [h.messages.fabrikam[0], h.messages.contoso[1], h.messages.contoso[0]], 'newest first');
    const own = (await h.inject('GET', '/v1/trace', { token: h.tokens.contosoRead })).json();
    assert.deepEqual([own.query.tenant, own.events.map((e: { queueId: string }) => e.queueId)], [{ id: h.contoso.id, name: 'contoso' }, [h.messages.contoso[1], h.messages.contoso[0]]]);
    assert.deepEqual((await h.inject('GET', '/v1/trace?recipient=@remote.test&event=held&limit=1', { token: h.tokens.admin })).json().events.length, 1);
    const paged = (await h.inject('GET', '/v1/trace?limit=1', { token: h.tokens.contoso })).json();
    assert.notEqual(paged.next, null);
    const second = (await h.inject('GET', `/v1/trace?limit=1&cursor=${paged.next}`, { token: h.tokens.contoso })).json();
    assert.deepEqual(second.events.map((e: { queueId: string }) => e.queueId), [h.messages.contoso[0]]);
    for (const ref of ['fabrikam', h.fabrikam.id]) {
      problem(await h.inject('GET', `/v1/trace?tenant=${ref}`, { token: h.tokens.contoso }), 404, 'not-found', `tenant ${ref} does not exist`);
    }
    problem(await h.inject('GET', '/v1/trace?since=soon', { token: h.tokens.admin }), 400, 'invalid');
    problem(await h.inject('GET', '/v1/trace?status=Lost', { token: h.tokens.admin }), 400, 'invalid');

    const story = await h.inject('GET', `/v1/trace/${h.messages.contoso[0]}`, { token: h.tokens.contoso });
    assert.deepEqual([story.json().kind, story.json().events.map((e: { kind: string }) => e.kind)], ['message', ['held']]);
    const missing = `nothing is recorded in the trace for ${h.messages.contoso[0]} (a queue id or a session id, as the search prints them)`;
    problem(await h.inject('GET', `/v1/trace/${h.messages.contoso[0]}`, { token: h.tokens.fabrikam }), 404, 'not-found', missing);
    problem(await h.inject('GET', '/v1/trace/nosuchid', { token: h.tokens.fabrikam }), 404, 'not-found', 'nothing is recorded in the trace for nosuchid (a queue id or a session id, as the search prints them)');

    writeFileSync(join(h.dir, 'relaygate.yaml'), 'hostname: relay.test\ndataDir: ./data\n');
    const cli = await runCliCaptured(['trace', 'show', h.messages.fabrikam[0]!, '--json', '--config', 'relaygate.yaml'], { env: {}, cwd: h.dir });
    assert.deepEqual((await h.inject('GET', `/v1/trace/${h.messages.fabrikam[0]}`, { token: h.tokens.admin })).json(), JSON.parse(cli.stdout));
  } finally {
    await h.close();
  }
});
