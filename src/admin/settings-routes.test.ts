import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminHarness } from '../../test/support/admin-api.js';
import { createTestPki } from '../../test/support/certificates.js';
import { problemSchema } from './problem.js';

function problem(r: { status: number; json(): any }, status: number, type: string, detail?: string | RegExp): void {
  const p = problemSchema.parse(r.json());
  assert.deepEqual([r.status, p.type], [status, type], JSON.stringify(p));
  if (typeof detail === 'string') assert.equal(p.detail, detail);
  else if (detail) assert.match(p.detail, detail);
}

test('routes: listed without passwords, added and removed through RoutesService with its rules, guarded by the settings ETag', async () => {
  const h = await adminHarness();
  const pki = createTestPki();
  try {
    const contoso = { token: h.tokens.contoso };
    const listed = await h.inject('GET', '/v1/tenants/contoso/routes', contoso);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json(), [{ id: h.routeId, tenant: 'contoso', domains: ['remote.test'], host: 'smart.contoso.example', port: 25, tls: 'required', authUser: 'relay', clientCert: null }]);
    assert.ok(!listed.body.includes('hunter2'), 'never the password');
    const etag = listed.headers.etag as string;
    assert.match(etag, /^"settings-\d+"$/);
    problem(await h.inject('POST', '/v1/tenants/contoso/routes', { ...contoso, body: { domains: ['remote.test'], host: 'x.example' } }), 409, 'conflict', `remote.test already has route ${h.routeId} of tenant contoso; remove that route first`);
    problem(await h.inject('POST', '/v1/tenants/contoso/routes', { ...contoso, body: { domains: ['a.test'], host: 'bad host' } }), 400, 'invalid', /^expected "host", "host:port" or "\[ipv6\]:port"/);
    const badKey = await h.inject('POST', '/v1/tenants/contoso/routes', { ...contoso, body: { domains: ['a.test'], host: 'x.example', clientCert: { cert: pki.server.cert, key: pki.ca.key } } });
    problem(badKey, 400, 'invalid', 'is not the key of the certificate');
    assert.equal(badKey.json().field, 'clientKey');
    const added = await h.inject('POST', '/v1/tenants/contoso/routes', {
      ...contoso,
      body: { domains: ['*.partner.test'], host: '[2001:db8::1]:2525', tls: 'opportunistic', auth: { user: 'u', pass: 'p' }, clientCert: { cert: pki.server.cert, key: pki.server.key } },
      headers: { 'if-match': etag },
    });
    assert.equal(added.status, 201, added.body);
    assert.deepEqual(added.json().warnings, [{ code: 'auth-without-tls', tls: 'opportunistic' }]);
    assert.equal(added.json().route.clientCert.subject.includes('localhost'), true);
    assert.notEqual(added.headers.etag, etag);
    problem(await h.inject('DELETE', `/v1/tenants/contoso/routes/${h.routeId}`, { ...contoso, headers: { 'if-match': etag } }), 412, 'stale-revision', /^the tenant settings are at revision \d+, not \d+: read them again and retry$/);
    problem(await h.inject('DELETE', `/v1/tenants/contoso/routes/${h.routeId}`, { ...contoso, headers: { 'if-match': '"dir-1"' } }), 412, 'stale-revision', /is not a revision of this resource/);
    assert.equal((await h.stores.tenantSettings.routes()).length, 2, 'the stale removal changed nothing');
    problem(await h.inject('DELETE', `/v1/tenants/fabrikam/routes/${h.routeId}`, { token: h.tokens.admin }), 404, 'not-found', `route ${h.routeId} of tenant fabrikam does not exist`);
    const removed = await h.inject('DELETE', `/v1/tenants/contoso/routes/${h.routeId}`, { ...contoso, headers: { 'if-match': added.headers.etag as string } });
    assert.equal(removed.status, 200, removed.body);
    assert.deepEqual((await h.stores.tenantSettings.routes()).map((r) => r.route.domains), [['*.partner.test']]);
    const audit = (await h.inject('GET', '/v1/audit', { token: h.tokens.admin })).json();
    assert.deepEqual(audit.map((a: { action: string }) => a.action), ['DELETE /v1/tenants/{tenant}/routes/{id}', 'POST /v1/tenants/{tenant}/routes']);
    assert.ok(!JSON.stringify(audit).includes('BEGIN PRIVATE KEY') && !JSON.stringify(audit).includes('"p"'), 'no secret goes into the audit log');
  } finally {
    pki.cleanup();
    await h.close();
  }
});

test('DKIM keys, SRS, quota and relayed headers: read and changed through their services, scoped to the tenant', async () => {
  const h = await adminHarness();
  try {
    const contoso = { token: h.tokens.contoso };
    const key = await h.inject('POST', '/v1/tenants/contoso/dkim-keys', { ...contoso, body: { domain: 'Contoso.example', selector: 'S1', algorithm: 'ed25519' } });
    assert.equal(key.status, 201, key.body);
    assert.deepEqual([key.json().domain, key.json().selector, key.json().name], ['contoso.example', 's1', 's1._domainkey.contoso.example']);
    assert.match(key.json().txt, /^v=DKIM1; k=ed25519; p=/);
    assert.ok(!key.body.includes('PRIVATE'));
    problem(await h.inject('POST', '/v1/tenants/contoso/dkim-keys', { ...contoso, body: { domain: 'contoso.example', selector: 's1', algorithm: 'rsa', bits: 512 } }), 400, 'invalid', 'must be between 1024 and 8192, got 512');
    assert.equal((await h.inject('GET', '/v1/tenants/contoso/dkim-keys', contoso)).json().length, 1);
    assert.deepEqual((await h.inject('GET', '/v1/tenants/fabrikam/dkim-keys', { token: h.tokens.fabrikam })).json(), []);

    assert.deepEqual((await h.inject('GET', '/v1/tenants/contoso/srs', contoso)).json(), { tenant: 'contoso', enabled: true, rewriteDomain: null, effectiveRewriteDomain: 'relay.test' });
    assert.deepEqual((await h.inject('PUT', '/v1/tenants/contoso/srs', { ...contoso, body: { rewriteDomain: 'SRS.Contoso.example' } })).json(), {
      tenant: 'contoso', enabled: true, rewriteDomain: 'srs.contoso.example', effectiveRewriteDomain: 'srs.contoso.example',
    });
    problem(await h.inject('PUT', '/v1/tenants/contoso/srs', { ...contoso, body: { rewriteDomain: 'not a domain' } }), 400, 'invalid', 'not a domain name: "not a domain"');

    const quota = await h.inject('PUT', '/v1/tenants/contoso/quota', { ...contoso, body: { dailyLimit: 250 } });
    assert.deepEqual([quota.json().dailyLimit, quota.json().recipients, quota.json().day], [250, 0, '2026-06-01']);
    problem(await h.inject('PUT', '/v1/tenants/contoso/quota', { ...contoso, body: { dailyLimit: -1 } }), 400, 'invalid', 'expected a whole number of recipients per day (0 or more) or unlimited, got -1');
    assert.equal((await h.inject('PUT', '/v1/tenants/contoso/quota', { ...contoso, body: { dailyLimit: null } })).json().dailyLimit, null);

    assert.deepEqual((await h.inject('GET', '/v1/tenants/contoso/headers', contoso)).json(), { tenant: 'contoso', relayed: 'strip' });
    assert.deepEqual((await h.inject('PUT', '/v1/tenants/contoso/headers', { ...contoso, body: { relayed: 'keep' } })).json(), { tenant: 'contoso', relayed: 'keep' });
    assert.equal(await h.stores.tenantSettings.keepsRelayedHeaders(h.contoso.id), true);
    assert.equal(await h.stores.tenantSettings.keepsRelayedHeaders(h.fabrikam.id), false);

    const stale = (await h.inject('GET', '/v1/tenants/contoso/quota', contoso)).headers.etag as string;
    await h.inject('PUT', '/v1/tenants/contoso/srs', { ...contoso, body: { enabled: false } });
    problem(await h.inject('PUT', '/v1/tenants/contoso/quota', { ...contoso, body: { dailyLimit: 5 }, headers: { 'if-match': stale } }), 412, 'stale-revision');
    assert.equal(await h.stores.tenantSettings.dailyLimit(h.contoso.id), null);
    for (const [method, path, body] of [
      ['GET', '/v1/tenants/contoso/srs', undefined], ['PUT', '/v1/tenants/contoso/srs', { enabled: true }],
      ['GET', '/v1/tenants/contoso/quota', undefined], ['PUT', '/v1/tenants/contoso/quota', { dailyLimit: 1 }],
      ['GET', '/v1/tenants/contoso/dkim-keys', undefined], ['PUT', '/v1/tenants/contoso/headers', { relayed: 'strip' }],
    ] as const) {
      problem(await h.inject(method, path, { token: h.tokens.fabrikam, ...(body ? { body } : {}) }), 404, 'not-found', 'tenant contoso does not exist');
    }
    assert.equal((await h.stores.tenantSettings.srsSetting(h.contoso.id)).enabled, false);
  } finally {
    await h.close();
  }
});
