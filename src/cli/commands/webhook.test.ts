import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { appendFileSync } from 'node:fs';
import { cliSandbox } from '../testing.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));
const SECRET = /^whsec_[A-Za-z0-9+/]{32}$/;

test('webhook add prints the secret once; list, rotate, test, deliveries, replay and remove work on the id', async () => {
  const s = cliSandbox();
  try {
    assert.equal((await s.run('apply', '-f', DEMO)).code, 0);
    const refused = await s.run('webhook', 'add', '--tenant', 'demo', '--url', 'http://127.0.0.1:9/hooks', '--events', 'delivered');
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [
      2, '', 'relaygate: --url: webhook target 127.0.0.1 is an address in a private, loopback or link-local range (set webhooks.allowPrivateTargets to allow it)\n',
    ]);
    const unknown = await s.run('webhook', 'add', '--tenant', 'demo', '--url', 'https://hooks.example/x', '--events', 'delivered,bounced');
    assert.deepEqual([unknown.code, unknown.stderr], [2, 'relaygate: --events: unknown event type "bounced" (expected refused, delivered, failed, deferred, expired, legacy-only, connector-health)\n']);
    const noTenant = await s.run('webhook', 'add', '--tenant', 'nobody', '--url', 'https://hooks.example/x', '--events', 'delivered');
    assert.deepEqual([noTenant.code, noTenant.stderr], [1, 'relaygate: tenant nobody does not exist\n']);

    appendFileSync(s.config, 'webhooks: { allowPrivateTargets: true }\n');
    const added = await s.run('webhook', 'add', '--tenant', 'DEMO', '--url', 'http://127.0.0.1:9/hooks', '--events', 'delivered, refused,delivered');
    assert.equal(added.code, 0, added.stderr);
    const [line, secret] = added.stdout.trimEnd().split('\n') as [string, string];
    const id = /^\+ webhook (wh_[0-9A-Z]{26}) of tenant demo: http:\/\/127\.0\.0\.1:9\/hooks \(delivered, refused\)$/.exec(line)?.[1];
    assert.ok(id, line);
    assert.match(secret, SECRET);
    assert.equal(added.stderr, 'relaygate: the secret is shown only now: give it to the receiver to verify webhook-signature (docs/webhooks.md)\n');

    const list = await s.run('webhook', 'list', '--json');
    const listed = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((w) => [w.id, w.tenant, w.events, w.enabled, w.previousSecretValidUntil]), [[id, 'demo', ['delivered', 'refused'], true, null]]);
    assert.ok(!list.stdout.includes(secret.slice(6)), 'no secret listed');

    const rotated = await s.run('webhook', 'rotate', id, '--grace', '1h', '--json');
    const r = JSON.parse(rotated.stdout) as { secret: string; previousSecretValidUntil: string };
    assert.match(r.secret, SECRET);
    assert.notEqual(r.secret, secret);
    assert.ok(Date.parse(r.previousSecretValidUntil) > Date.now());
    const badGrace = await s.run('webhook', 'rotate', id, '--grace', '30d');
    assert.deepEqual([badGrace.code, badGrace.stderr], [2, 'relaygate: --grace: a rotation grace period is between 0 and 7 days\n']);

    const queued = await s.run('webhook', 'test', id, '--tenant', 'demo');
    const delivery = /^test event queued as delivery (\d+): serve sends it next/.exec(queued.stdout)?.[1];
    assert.ok(delivery, queued.stdout);
    const deliveries = JSON.parse((await s.run('webhook', 'deliveries', id, '--json')).stdout) as Array<{ id: number; type: string; state: string; attempts: number }>;
    assert.deepEqual(deliveries.map((d) => [d.id, d.type, d.state, d.attempts]), [[Number(delivery), 'test', 'pending', 0]]);
    assert.equal((await s.run('webhook', 'replay', delivery)).stdout, `delivery ${delivery} (test) queued again: serve sends it next\n`);
    const missing = await s.run('webhook', 'replay', '999');
    assert.deepEqual([missing.code, missing.stderr], [1, 'relaygate: webhook delivery 999 does not exist\n']);
    const badId = await s.run('webhook', 'replay', 'abc');
    assert.deepEqual([badId.code, badId.stderr], [2, 'relaygate: not a delivery id: "abc" (the ID column of webhook deliveries)\n']);

    const removed = await s.run('webhook', 'remove', id);
    assert.equal(removed.stdout, `- webhook ${id} of tenant demo: http://127.0.0.1:9/hooks (delivered, refused)\n`);
    const again = await s.run('webhook', 'remove', id);
    assert.deepEqual([again.code, again.stderr], [1, `relaygate: webhook subscription ${id} does not exist\n`]);
    assert.equal((await s.run('webhook', 'list')).stdout, 'no webhook subscriptions\n');
  } finally {
    s.cleanup();
  }
});
