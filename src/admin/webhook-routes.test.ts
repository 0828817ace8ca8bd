import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminHarness } from '../../test/support/admin-api.js';
import { problemSchema } from './problem.js';

function problem(r: { status: number; json(): any }, status: number, type: string, detail?: string): void {
  const p = problemSchema.parse(r.json());
  assert.deepEqual([r.status, p.type], [status, type], JSON.stringify(p));
  if (detail !== undefined) assert.equal(p.detail, detail);
}

test("webhooks: a tenant token subscribes (the secret answered once, never audited), rotates, tests and replays its own; another tenant's ids are 404", async () => {
  const h = await adminHarness();
  try {
    const contoso = { token: h.tokens.contoso };
    const added = await h.inject('POST', '/v1/tenants/contoso/webhooks', { ...contoso, body: { url: 'https://93.184.215.14/hooks/new', events: ['failed', 'legacy-only'] } });
    assert.equal(added.status, 201, added.body);
    const created = added.json();
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.deepEqual([created.tenant, created.url, created.events, created.enabled], ['contoso', 'https://93.184.215.14/hooks/new', ['failed', 'legacy-only'], true]);
    assert.equal(added.headers.location, `/v1/tenants/${h.contoso.id}/webhooks/${created.id}`);

    const listed = await h.inject('GET', `/v1/tenants/${h.contoso.id}/webhooks`, contoso);
    assert.deepEqual(listed.json().map((w: { id: string }) => w.id).sort(), [h.webhookId, created.id].sort());
    assert.ok(!listed.body.includes('whsec_'), 'never a secret in a listing');

    const rotated = await h.inject('POST', `/v1/tenants/contoso/webhooks/${created.id}/rotate`, { ...contoso, body: { graceSeconds: 600 } });
    assert.equal(rotated.status, 200, rotated.body);
    assert.notEqual(rotated.json().secret, created.secret);
    assert.equal(rotated.json().previousSecretValidUntil, new Date(h.clock.now().getTime() + 600_000).toISOString());
    const audit = JSON.stringify(await h.stores.audit.list({ limit: 100 }));
    assert.ok(audit.includes(created.id) && !audit.includes('whsec_'), 'writes audited, secrets not');

    const queued = await h.inject('POST', `/v1/tenants/contoso/webhooks/${created.id}/test`, contoso);
    assert.equal(queued.status, 202);
    const deliveries = await h.inject('GET', `/v1/tenants/contoso/webhooks/${created.id}/deliveries?limit=5`, contoso);
    assert.deepEqual(deliveries.json().map((d: { id: number; type: string; state: string }) => [d.id, d.type, d.state]), [[queued.json().id, 'test', 'pending']]);
    problem(await h.inject('GET', `/v1/tenants/contoso/webhooks/${created.id}/deliveries?limit=500`, contoso), 400, 'invalid', 'expected 1 to 100');
    const replayed = await h.inject('POST', `/v1/tenants/contoso/webhooks/${created.id}/deliveries/${queued.json().id}/replay`, contoso);
    assert.equal(replayed.status, 202, replayed.body);
    // A delivery of another subscription, even of the same tenant, is not found under this one.
    problem(await h.inject('POST', `/v1/tenants/contoso/webhooks/${created.id}/deliveries/${h.webhookDeliveryId}/replay`, contoso), 404, 'not-found', `webhook delivery ${h.webhookDeliveryId} does not exist`);

    problem(await h.inject('POST', '/v1/tenants/contoso/webhooks', { ...contoso, body: { url: 'http://169.254.169.254/latest', events: ['delivered'] } }), 400, 'invalid',
      'webhook target 169.254.169.254 is an address in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)');
    problem(await h.inject('POST', '/v1/tenants/contoso/webhooks', { ...contoso, body: { url: 'https://93.184.215.14/x', events: [] } }), 400, 'invalid',
      'name at least one event type (refused, delivered, failed, deferred, expired, legacy-only, connector-health)');
    problem(await h.inject('POST', '/v1/tenants/contoso/webhooks', { token: h.tokens.contosoRead, body: { url: 'https://93.184.215.14/x', events: ['failed'] } }), 403, 'forbidden', 'this token is read-only');

    // fabrikam, on its own tenant's path, names contoso's subscription and delivery: as if they did not exist.
    const fabrikam = { token: h.tokens.fabrikam };
    const own = (await h.inject('POST', '/v1/tenants/fabrikam/webhooks', { ...fabrikam, body: { url: 'https://93.184.215.14/f', events: ['delivered'] } })).json();
    for (const [method, path] of [
      ['GET', `/v1/tenants/fabrikam/webhooks/${h.webhookId}`], ['PATCH', `/v1/tenants/fabrikam/webhooks/${h.webhookId}`],
      ['DELETE', `/v1/tenants/fabrikam/webhooks/${h.webhookId}`], ['POST', `/v1/tenants/fabrikam/webhooks/${h.webhookId}/rotate`],
      ['POST', `/v1/tenants/fabrikam/webhooks/${h.webhookId}/test`], ['GET', `/v1/tenants/fabrikam/webhooks/${h.webhookId}/deliveries`],
      ['POST', `/v1/tenants/fabrikam/webhooks/${h.webhookId}/deliveries/${h.webhookDeliveryId}/replay`],
    ] as const) {
      problem(await h.inject(method, path, { ...fabrikam, ...(method === 'PATCH' ? { body: { enabled: false } } : path.endsWith('/rotate') ? { body: {} } : {}) }), 404, 'not-found', `webhook subscription ${h.webhookId} does not exist`);
    }
    problem(await h.inject('POST', `/v1/tenants/fabrikam/webhooks/${own.id}/deliveries/${h.webhookDeliveryId}/replay`, fabrikam), 404, 'not-found', `webhook delivery ${h.webhookDeliveryId} does not exist`);
    assert.deepEqual((await h.inject('GET', '/v1/tenants/fabrikam/webhooks', fabrikam)).json().map((w: { id: string }) => w.id), [own.id]);
    const untouched = await h.stores.webhooks.getSubscription(h.webhookId);
    assert.deepEqual([untouched?.enabled, untouched?.previousSecret], [true, null], "contoso's subscription unchanged");

    const removed = await h.inject('DELETE', `/v1/tenants/contoso/webhooks/${created.id}`, { token: h.tokens.admin });
    assert.equal(removed.status, 200);
    problem(await h.inject('GET', `/v1/tenants/contoso/webhooks/${created.id}`, contoso), 404, 'not-found', `webhook subscription ${created.id} does not exist`);
  } finally {
    await h.close();
  }
});
