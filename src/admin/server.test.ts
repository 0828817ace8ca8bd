import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminHarness, START, type AdminHarness } from '../../test/support/admin-api.js';
import type { ApiRoute } from './api-route.js';
import { problemSchema } from './problem.js';

/** A request body each writing route accepts (for contoso), so a walk reaches the handler. */
export const sampleBodies: Readonly<Record<string, unknown>> = {
  createTenant: { name: 'northwind' },
  updateTenant: { rejectDirectSend: true },
  addDomain: { domain: 'new.contoso.example' },
  addConnector: { name: 'printers', type: 'OnPremises', senderIPAddresses: ['192.0.2.0/24'] },
  updateConnector: { enabled: false },
  createToken: { role: 'tenant', tenant: 'contoso', scope: 'read' },
  addRoute: { domains: ['other.test'], host: 'smart2.contoso.example:2525', tls: 'required' },
  generateDkimKey: { domain: 'contoso.example', selector: 's1', algorithm: 'ed25519' },
  setSrs: { enabled: false },
  setQuota: { dailyLimit: 500 },
  setRelayedHeaders: { relayed: 'keep' },
  actOnQueue: { action: 'hold', filter: { all: true }, dryRun: true },
  addWebhook: { url: 'https://93.184.215.14/hooks/other', events: ['failed'] },
  updateWebhook: { enabled: false },
  rotateWebhookSecret: { graceSeconds: 3600 },
  check: { scenario: { connection: { ip: '127.0.0.1' }, mailFrom: 'app@contoso.example', recipients: ['someone@external.example'] } },
};

/** The path of a route with contoso's ids filled in (and the names its other parameters take). */
function pathFor(r: ApiRoute, h: AdminHarness, tenant: string = h.contoso.id): string {
  const id = r.path.startsWith('/v1/queue') || r.path.startsWith('/v1/trace') ? h.messages.contoso[0]! : r.path.includes('/routes/') ? String(h.routeId) : h.tokenIds.contosoRead;
  const values: Record<string, string> = {
    tenant, name: 'apps', domain: 'relay.contoso.example', id, action: 'hold', webhook: h.webhookId, delivery: String(h.webhookDeliveryId),
  };
  return r.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(values[p] ?? `unknown-${p}`));
}

function problem(r: { status: number; headers: Record<string, unknown>; json(): any }, status: number, type: string, detail?: string | RegExp): void {
  assert.equal(r.status, status);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  const p = problemSchema.parse(r.json());
  assert.equal(p.type, type);
  assert.equal(p.status, status);
  if (typeof detail === 'string') assert.equal(p.detail, detail);
  else if (detail) assert.match(p.detail, detail);
}

test('no token, a malformed header, an unknown, expired or revoked token: 401 with WWW-Authenticate, on every route but the public ones', async () => {
  const h = await adminHarness();
  try {
    const forged = h.tokens.admin.slice(0, -4) + (h.tokens.admin.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'this needs a token: Authorization: Bearer <token>'],
      [{ authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` }, 'expected Authorization: Bearer <token>'],
      [{ authorization: 'Bearer not-a-token' }, 'the token is not valid'],
      [{ authorization: `Bearer ${forged}` }, 'the token is not valid'],
      [{ authorization: `Bearer rg_01KDVDNA00ZZZZZZZZZZZZZZZZ_${'A'.repeat(43)}` }, 'the token is not valid'],
      [{ authorization: `Bearer ${h.tokens.expired}` }, 'the token expired at 2026-06-01T10:01:00.000Z'],
      [{ authorization: `Bearer ${h.tokens.revoked}` }, 'the token was revoked'],
    ];
    let n = 0;
    for (const r of h.api.routes.filter((x) => x.access !== 'public')) {
      for (const [headers, detail] of cases) {
        // A fresh address per request: this test is about the answer, not the rate limit.
        const answer = await h.inject(r.method, pathFor(r, h), { headers, remoteAddress: `10.1.${Math.floor(n / 250)}.${n++ % 250}`, ...(sampleBodies[r.id] ? { body: sampleBodies[r.id] } : {}) });
        problem(answer, 401, 'unauthorized', detail);
        assert.equal(answer.headers['www-authenticate'], 'Bearer realm="relaygate"', `${r.id}`);
      }
    }
    assert.ok(n > 100, `${n} requests`);
    assert.equal((await h.stores.directory.load()).tenants.length, 2, 'nothing was written');
    assert.deepEqual(await h.stores.audit.list({ limit: 10 }), []);
  } finally {
    await h.close();
  }
});

test("another tenant's token gets 404 on every route that names the first tenant's ids, by id or by name, and exactly what a missing tenant gets", async () => {
  const h = await adminHarness();
  try {
    const scoped = h.api.routes.filter((r) => /\{(tenant|id)\}/.test(r.path));
    assert.ok(scoped.length >= 10, scoped.map((r) => r.id).join(', '));
    for (const r of scoped) {
      for (const ref of [h.contoso.id, 'contoso', 'CONTOSO', h.contoso.id.toLowerCase()]) {
        const body = sampleBodies[r.id] ? { body: sampleBodies[r.id] } : {};
        const got = await h.inject(r.method, pathFor(r, h, ref), { token: h.tokens.fabrikam, ...body });
        const missing = await h.inject(r.method, pathFor(r, h, 'no-such-tenant'), { token: h.tokens.fabrikam, ...body });
        if (r.access === 'admin-write' || r.access === 'admin-read') {
          problem(got, 403, 'forbidden', 'this needs an admin token');
          problem(missing, 403, 'forbidden', 'this needs an admin token');
          continue;
        }
        const detail = r.path.includes('{tenant}')
          ? `tenant ${ref} does not exist`
          : r.path.startsWith('/v1/queue')
            ? `message ${h.messages.contoso[0]} is not in the queue`
            : r.path.startsWith('/v1/trace')
              ? `nothing is recorded in the trace for ${h.messages.contoso[0]} (a queue id or a session id, as the search prints them)`
              : `token ${h.tokenIds.contosoRead} does not exist`;
        problem(got, 404, 'not-found', detail);
        if (r.path.includes('{tenant}')) assert.deepEqual({ ...got.json(), instance: null, detail: null }, { ...missing.json(), instance: null, detail: null }, r.id);
      }
    }
    const listed = await h.inject('GET', '/v1/tenants', { token: h.tokens.fabrikam });
    assert.deepEqual(listed.json().map((t: { name: string }) => t.name), ['fabrikam']);
    const tokens = await h.inject('GET', '/v1/tokens', { token: h.tokens.fabrikam });
    assert.deepEqual(tokens.json().map((t: { name: string }) => t.name), ['fabrikam']);
    assert.deepEqual(await h.stores.directory.load(), await h.stores.directory.load());
    assert.equal((await h.stores.directory.revision()), 1, 'nothing of contoso changed');
    assert.equal((await h.stores.tokens.get(h.tokenIds.contosoRead))?.revokedAt, null);
    const states = (await h.stores.queueAdmin.select({}, { limit: 10 })).flatMap((e) => e.recipients.map((r) => r.state));
    assert.deepEqual(states, ['queued', 'queued', 'queued', 'queued', 'queued', 'queued'], "no queue action reached contoso's mail");
    assert.equal((await h.stores.tenantSettings.routes()).length, 1);
  } finally {
    await h.close();
  }
});

test('a read-only token reads and writes nothing (403 forbidden); a tenant token cannot reach admin resources', async () => {
  const h = await adminHarness();
  try {
    for (const r of h.api.routes.filter((x) => x.access === 'write' || x.access === 'admin-write')) {
      for (const token of [h.tokens.adminRead, h.tokens.contosoRead]) {
        const expected = r.access === 'admin-write' && token === h.tokens.contosoRead ? 'this needs an admin token' : 'this token is read-only';
        problem(await h.inject(r.method, pathFor(r, h), { token, ...(sampleBodies[r.id] ? { body: sampleBodies[r.id] } : {}) }), 403, 'forbidden', expected);
      }
    }
    assert.equal(await h.stores.directory.revision(), 1);
    assert.equal((await h.inject('GET', `/v1/tenants/${h.contoso.id}`, { token: h.tokens.contosoRead })).status, 200);
    problem(await h.inject('GET', '/v1/audit', { token: h.tokens.contoso }), 403, 'forbidden', 'this needs an admin token');
    problem(await h.inject('POST', '/v1/tenants', { token: h.tokens.contoso, body: { name: 'x' } }), 403, 'forbidden', 'this needs an admin token');
  } finally {
    await h.close();
  }
});

test('directory CRUD with ETags: a write with a stale If-Match is 412 and changes nothing; the current one applies and moves the ETag', async () => {
  const h = await adminHarness();
  try {
    const admin = { token: h.tokens.admin };
    const read = await h.inject('GET', `/v1/tenants/${h.contoso.id}`, admin);
    assert.equal(read.headers.etag, '"dir-1"');
    const first = await h.inject('PATCH', '/v1/tenants/contoso', { ...admin, body: { relayRuleSet: 'legacy' }, headers: { 'if-match': '"dir-1"' } });
    assert.equal(first.status, 200, first.body);
    assert.equal(first.headers.etag, '"dir-2"');
    assert.deepEqual(first.json().changes, [{ action: 'change', entity: 'tenant', tenant: 'contoso', name: 'contoso', fields: [{ field: 'relayRuleSet', before: 'auto', after: 'legacy' }] }]);
    // The second admin read revision 1 too.
    const second = await h.inject('PATCH', '/v1/tenants/contoso', { ...admin, body: { relayRuleSet: '2023-11' }, headers: { 'if-match': '"dir-1"' } });
    problem(second, 412, 'stale-revision', 'the directory is at revision 2, not 1: read it again and retry');
    for (const [method, url, body] of [
      ['POST', '/v1/tenants/contoso/domains', { domain: 'x.contoso.example' }],
      ['DELETE', '/v1/tenants/contoso/domains/relay.contoso.example', undefined],
      ['POST', '/v1/tenants/contoso/connectors', sampleBodies.addConnector],
      ['PATCH', '/v1/tenants/contoso/connectors/apps', { enabled: false }],
      ['DELETE', '/v1/tenants/contoso/connectors/apps', undefined],
      ['DELETE', '/v1/tenants/fabrikam', undefined],
      ['POST', '/v1/tenants', { name: 'northwind' }],
    ] as const) {
      problem(await h.inject(method, url, { ...admin, headers: { 'if-match': '"dir-1"' }, ...(body ? { body } : {}) }), 412, 'stale-revision', 'the directory is at revision 2, not 1: read it again and retry');
    }
    problem(await h.inject('PATCH', '/v1/tenants/contoso', { ...admin, body: { rejectDirectSend: true }, headers: { 'if-match': '"settings-2"' } }), 412, 'stale-revision', /^If-Match "settings-2" is not a revision of this resource/);
    problem(await h.inject('PATCH', '/v1/tenants/contoso', { ...admin, body: { rejectDirectSend: true }, headers: { 'if-match': 'dir-2' } }), 400, 'invalid', 'expected an ETag this API sent, such as "dir-12", got "dir-2"');
    assert.equal(await h.stores.directory.revision(), 2);
    assert.equal((await h.stores.directory.load()).tenants[0]!.relayRuleSet, 'legacy');

    const added = await h.inject('POST', '/v1/tenants/contoso/connectors', { ...admin, body: sampleBodies.addConnector, headers: { 'if-match': '"dir-2"' } });
    assert.equal(added.status, 201, added.body);
    assert.equal(added.headers.location, `/v1/tenants/${h.contoso.id}/connectors/printers`);
    assert.equal(added.headers.etag, '"dir-3"');
    const patched = await h.inject('PATCH', '/v1/tenants/contoso/connectors/PRINTERS', { ...admin, body: { senderIPAddresses: ['192.0.2.7/24'] } });
    assert.equal(patched.json().connector.senderIPAddresses[0], '192.0.2.0/24', 'the directory canonicalizes, as for the CLI');
    problem(await h.inject('PATCH', '/v1/tenants/contoso/connectors/printers', { ...admin, body: { senderIPAddresses: ['300.1.1.1'] } }), 400, 'invalid', /^invalid directory \(1 problem\):\n {2}tenant contoso, connector printers: senderIPAddresses\[0\]: "300\.1\.1\.1" is not an IP address or CIDR range$/);
    problem(await h.inject('POST', '/v1/tenants/contoso/connectors', { ...admin, body: { name: 'apps', type: 'OnPremises', senderIPAddresses: ['192.0.2.9'] } }), 409, 'conflict', 'tenant contoso already has a connector apps');
    problem(await h.inject('GET', '/v1/tenants/contoso/connectors/nothing', admin), 404, 'not-found', 'tenant contoso has no connector nothing');
    problem(await h.inject('DELETE', '/v1/tenants/contoso/domains/fabrikam.example', admin), 404, 'not-found', 'fabrikam.example is not an accepted domain of tenant contoso');
    const removed = await h.inject('DELETE', '/v1/tenants/contoso/domains/RELAY.contoso.example', admin);
    assert.equal(removed.status, 200, removed.body);
    assert.deepEqual((await h.inject('GET', '/v1/tenants/contoso/domains', admin)).json().map((d: { domain: string }) => d.domain), ['contoso.example']);
    problem(await h.inject('PATCH', '/v1/tenants/contoso', { ...admin, body: {} }), 400, 'invalid', 'nothing to change: the body names no field');
    const created = await h.inject('POST', '/v1/tenants', { ...admin, body: { name: 'northwind', acceptedDomains: [{ domain: 'NorthWind.example' }] } });
    assert.equal(created.status, 201, created.body);
    assert.equal(created.headers.location, `/v1/tenants/${created.json().tenant.id}`);
    assert.equal(created.json().tenant.acceptedDomains[0].domain, 'northwind.example');
    problem(await h.inject('POST', '/v1/tenants', { ...admin, body: { name: 'NORTHWIND' } }), 409, 'conflict', 'tenant NORTHWIND already exists');
    const gone = await h.inject('DELETE', `/v1/tenants/${created.json().tenant.id}`, admin);
    assert.equal(gone.status, 200, gone.body);
    problem(await h.inject('GET', `/v1/tenants/${created.json().tenant.id}`, admin), 404, 'not-found');
  } finally {
    await h.close();
  }
});

test('a tenant token edits its own tenant, learns that a domain is taken but not by whom, and every write is in the audit log with before and after', async () => {
  const h = await adminHarness();
  try {
    const contoso = { token: h.tokens.contoso };
    assert.equal((await h.inject('PATCH', '/v1/tenants/contoso', { ...contoso, body: { rejectDirectSend: true } })).status, 200);
    problem(await h.inject('POST', '/v1/tenants/contoso/domains', { ...contoso, body: { domain: 'FABRIKAM.example' } }), 409, 'conflict', 'fabrikam.example is an accepted domain of another tenant');
    problem(await h.inject('POST', `/v1/tenants/${h.contoso.id}/domains`, { token: h.tokens.admin, body: { domain: 'fabrikam.example' } }), 409, 'conflict', 'fabrikam.example already belongs to tenant fabrikam');
    assert.equal((await h.inject('DELETE', '/v1/tenants/contoso/connectors/mailserver', contoso)).status, 200);
    const audit = await h.inject('GET', '/v1/audit', { token: h.tokens.adminRead });
    assert.equal(audit.status, 200);
    const records = audit.json() as Array<Record<string, any>>;
    assert.deepEqual(records.map((r) => [r.action, r.target, r.actor, r.actorName, r.tenantId, r.clientIp]), [
      ['DELETE /v1/tenants/{tenant}/connectors/{name}', '/v1/tenants/contoso/connectors/mailserver', h.tokenIds.contoso, 'contoso', h.contoso.id, '127.0.0.1'],
      ['PATCH /v1/tenants/{tenant}', '/v1/tenants/contoso', h.tokenIds.contoso, 'contoso', h.contoso.id, '127.0.0.1'],
    ]);
    assert.equal(records[0]!.before.name, 'mailserver');
    assert.equal(records[0]!.after, null);
    assert.equal(records[1]!.before.rejectDirectSend, false);
    assert.equal(records[1]!.after.rejectDirectSend, true);
    assert.equal(records[1]!.at, new Date(START.getTime() + 120_000).toISOString());
    assert.deepEqual((await h.inject('GET', `/v1/audit?tenantId=${h.fabrikam.id}`, { token: h.tokens.admin })).json(), []);
    assert.equal((await h.inject('GET', '/v1/audit?limit=1', { token: h.tokens.admin })).json().length, 1);
    problem(await h.inject('GET', '/v1/audit?limit=0', { token: h.tokens.admin }), 400, 'invalid', '/query/limit: expected a whole number from 1 to 1000');
  } finally {
    await h.close();
  }
});

test('tokens through the API: none stronger than its creator; the secret is shown once; revocation works at once', async () => {
  const h = await adminHarness();
  try {
    const created = await h.inject('POST', '/v1/tokens', { token: h.tokens.contoso, body: { role: 'tenant', tenant: 'contoso', scope: 'read', expires: '1h', name: 'dashboard' } });
    assert.equal(created.status, 201, created.body);
    const view = created.json();
    assert.equal(view.createdBy, h.tokenIds.contoso);
    assert.equal((await h.inject('GET', '/v1/tenants', { token: view.token })).status, 200);
    assert.ok(!(await h.inject('GET', `/v1/tokens/${view.id}`, { token: h.tokens.admin })).body.includes(view.token.slice(30)));
    problem(await h.inject('POST', '/v1/tokens', { token: h.tokens.contoso, body: { role: 'admin' } }), 403, 'forbidden', 'a tenant token cannot create an admin token');
    problem(await h.inject('POST', '/v1/tokens', { token: h.tokens.contoso, body: { role: 'tenant', tenant: 'fabrikam' } }), 404, 'not-found', 'tenant fabrikam does not exist');
    problem(await h.inject('POST', '/v1/tokens', { token: view.token, body: { role: 'tenant', tenant: 'contoso', scope: 'read' } }), 403, 'forbidden', 'this token is read-only');
    problem(await h.inject('POST', '/v1/tokens', { token: h.tokens.admin, body: { role: 'admin', tenant: 'contoso' } }), 400, 'invalid', 'an admin token is for no tenant');
    problem(await h.inject('POST', '/v1/tokens', { token: h.tokens.admin, body: { role: 'admin', expires: 'soon' } }), 400, 'invalid', 'expected a duration such as 90d or 12h, got "soon"');
    // A token with an expiry makes tokens that expire no later.
    const short = (await h.inject('POST', '/v1/tokens', { token: h.tokens.admin, body: { role: 'admin', expires: '2h' } })).json();
    const child = await h.inject('POST', '/v1/tokens', { token: short.token, body: { role: 'tenant', tenant: 'fabrikam' } });
    assert.equal(child.json().expiresAt, short.expiresAt);
    problem(await h.inject('POST', '/v1/tokens', { token: short.token, body: { role: 'admin', expires: '3h' } }), 403, 'forbidden', `a token cannot outlive the one that creates it (this one expires at ${short.expiresAt})`);
    const revoked = await h.inject('DELETE', `/v1/tokens/${view.id}`, { token: h.tokens.contoso });
    assert.equal(revoked.json().state, 'revoked');
    problem(await h.inject('GET', '/v1/tenants', { token: view.token }), 401, 'unauthorized', 'the token was revoked');
    problem(await h.inject('DELETE', `/v1/tokens/${h.tokenIds.admin}`, { token: h.tokens.contoso }), 404, 'not-found', `token ${h.tokenIds.admin} does not exist`);
  } finally {
    await h.close();
  }
});

test('malformed, oversized and wrongly typed bodies are refused with their problem type and change nothing', async () => {
  const h = await adminHarness({ maxBodySize: 2048 });
  try {
    const admin = { token: h.tokens.admin };
    problem(await h.inject('POST', '/v1/tenants', { ...admin, payload: '{"name": "x",', headers: { 'content-type': 'application/json' } }), 400, 'invalid', /^the body is not JSON: /);
    problem(await h.inject('POST', '/v1/tenants', { ...admin, payload: '', headers: { 'content-type': 'application/json' } }), 400, 'invalid', /^the body is not JSON: /);
    problem(await h.inject('POST', '/v1/tenants', admin), 400, 'invalid', '/body: a body is required');
    problem(await h.inject('POST', '/v1/tenants', { ...admin, payload: 'name=x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported', 'this resource does not read "text/plain" bodies');
    problem(await h.inject('POST', '/v1/tenants', { ...admin, body: { name: 'x'.repeat(1_100_000) } }), 413, 'too-large', 'the request body is larger than 1048576 bytes');
    const wrong = await h.inject('POST', '/v1/tenants', { ...admin, body: { name: 7, rejectDirectSend: 'yes', extra: true } });
    problem(wrong, 400, 'invalid', '3 problems with the request');
    assert.deepEqual(wrong.json().errors.map((e: { pointer: string }) => e.pointer).sort(), ['/body', '/body/name', '/body/rejectDirectSend']);
    problem(await h.inject('POST', '/v1/tenants', { ...admin, body: [] }), 400, 'invalid');
    problem(await h.inject('GET', '/v1/nothing', admin), 404, 'not-found', 'no resource GET /v1/nothing');
    assert.equal(await h.stores.directory.revision(), 1);
  } finally {
    await h.close();
  }
});

test('failed authentication is rate-limited per client address: 429 with Retry-After, even for a good token, until the window ends', async () => {
  const h = await adminHarness({ maxAuthFailures: 3, authFailureWindow: 60_000 });
  try {
    const from = (remoteAddress: string, token: string) => h.inject('GET', '/v1/tenants', { token, remoteAddress });
    for (let i = 0; i < 3; i++) problem(await from('192.0.2.10', 'rg_guess'), 401, 'unauthorized');
    const blocked = await from('192.0.2.10', 'rg_guess');
    problem(blocked, 429, 'rate-limited', 'too many failed authentications from this address: try again in 60 s');
    assert.equal(blocked.headers['retry-after'], '60');
    problem(await from('192.0.2.10', h.tokens.admin), 429, 'rate-limited');
    assert.equal((await from('192.0.2.11', h.tokens.admin)).status, 200, 'another address is not affected');
    h.clock.advance(30_000);
    assert.equal((await from('192.0.2.10', h.tokens.admin)).headers['retry-after'], '30');
    h.clock.advance(30_000);
    assert.equal((await from('192.0.2.10', h.tokens.admin)).status, 200);
    assert.equal((await h.inject('GET', '/healthz', { remoteAddress: '192.0.2.12' })).status, 200);
  } finally {
    await h.close();
  }
});

test('the OpenAPI document is OpenAPI 3.1 in shape, lists every route, and every route in it answers an admin as its schema says', async () => {
  const h = await adminHarness();
  try {
    const r = await h.inject('GET', '/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.bearer.description });
    const operations: Array<[string, string, any]> = [];
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      assert.match(path, /^\/[a-z0-9/{}._-]*$/i);
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method), method);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        assert.ok(Object.keys(op.responses).length > 0);
        for (const [status, resp] of Object.entries(op.responses as Record<string, any>)) {
          assert.match(status, /^([1-5]\d\d|default)$/);
          assert.equal(typeof resp.description, 'string');
        }
        const pathParams = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
        assert.deepEqual(pathParams.sort(), [...templated].sort(), `${method} ${path}: every templated parameter is declared`);
        for (const p of op.parameters ?? []) assert.ok(['path', 'query', 'header'].includes(p.in) && typeof p.schema === 'object');
        operations.push([method.toUpperCase(), path, op]);
      }
    }
    assert.deepEqual(operations.map(([m, p]) => `${m} ${p}`).sort(), h.api.routes.map((x) => `${x.method} ${x.path}`).sort(), 'the document lists exactly the served routes');
    // Reads first, then writes, deletions last (the deepest first, the tenant itself at the very end), so each route finds what it names.
    const order = (m: string, id: string) => (id === 'deleteTenant' ? 5 : (({ GET: 0, POST: 1, PATCH: 2, PUT: 2, DELETE: 3 }) as Record<string, number>)[m] ?? 4);
    for (const [method, , op] of operations.sort((a, b) => order(a[0], a[2].operationId) - order(b[0], b[2].operationId) || (a[0] === 'DELETE' ? b[1].length - a[1].length : 0))) {
      const declared = h.api.routes.find((x) => x.id === op.operationId)!;
      const answer = await h.inject(method, pathFor(declared, h), { token: h.tokens.admin, ...(sampleBodies[declared.id] ? { body: sampleBodies[declared.id] } : {}) });
      assert.ok(answer.status < 300, `${declared.id}: ${answer.status} ${answer.body}`);
      assert.ok(Object.keys(op.responses).includes(String(answer.status)), `${declared.id} answered ${answer.status}, which the document lists`);
      const parsed = declared.response.safeParse(answer.json());
      assert.ok(parsed.success, `${declared.id}: ${parsed.success ? '' : parsed.error.message}`);
    }
  } finally {
    await h.close();
  }
});

test('healthz answers without a token; readyz says the store is reachable, and 503 when it is not', async () => {
  const h = await adminHarness();
  try {
    assert.deepEqual((await h.inject('GET', '/healthz')).json(), { status: 'ok' });
    assert.deepEqual((await h.inject('GET', '/readyz')).json(), { status: 'ready', checks: { store: { ok: true, detail: 'revision 1' } } });
    h.stores.db.close();
    const down = await h.inject('GET', '/readyz');
    assert.equal(down.status, 503);
    assert.equal(down.json().status, 'not-ready');
    assert.equal(down.json().checks.store.ok, false);
  } finally {
    await h.close();
  }
});
