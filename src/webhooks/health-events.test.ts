import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStores } from '../app/stores.js';
import { ManualClock } from '../core/clock.js';
import { validateDirectory } from '../directory/index.js';
import { WebhookReceiver } from '../../test/support/webhook-receiver.js';
import { healthWarningNotifier } from './health-events.js';
import { WebhookService } from './webhook-service.js';
import { WebhookWorker } from './worker.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const HOUR = 3_600_000;

test('a connector-health warning reaches the subscribed tenant once a day however often the hourly check sees it, signed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-health-hooks-'));
  const stores = openSqliteStores({ dataDir: dir });
  const receiver = new WebhookReceiver();
  try {
    await stores.directory.replace(validateDirectory({ tenants: [{ name: 'contoso' }, { name: 'fabrikam' }] }));
    const clock = new ManualClock(new Date(T0));
    const service = new WebhookService({ directory: stores.directory, webhooks: stores.webhooks, clock, allowPrivateTargets: true });
    const url = await receiver.start();
    receiver.secrets = [(await service.subscribe('contoso', { url, events: ['connector-health'] })).secret];
    const notify = healthWarningNotifier({ directory: stores.directory, webhooks: stores.webhooks });
    const warning = { code: 'certificate-expiring', tenant: 'contoso', connector: 'mailserver', message: 'the certificate expires in 12 days', fingerprint: 'AB:CD' };
    const other = { ...warning, tenant: 'fabrikam' };
    assert.equal(await notify([warning, other], T0), 1, 'fabrikam has no subscription');
    for (let h = 1; h < 15; h++) assert.equal(await notify([warning], T0 + h * HOUR), 0, `hour ${h}: the same day, already owed`);
    assert.equal(await notify([{ ...warning, code: 'connector-silent', fingerprint: undefined as unknown as string }], T0 + HOUR), 1, 'another warning');
    assert.equal(await notify([warning], T0 + 24 * HOUR), 1, 'the next day');

    const worker = new WebhookWorker({ store: stores.webhooks, clock, node: 'n1', allowPrivateTargets: true, random: () => 0.5 });
    clock.advance(24 * HOUR);
    assert.deepEqual(await worker.runOnce(), { delivered: 3, retried: 0, failed: 0 });
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    assert.ok(receiver.requests.every((r) => r.verifiedBy.length === 1));
    assert.deepEqual(bodies.map((b) => [b.type, b.data.code, b.data.day]).sort(), [
      ['connector-health', 'certificate-expiring', '2026-12-01'], ['connector-health', 'certificate-expiring', '2026-12-02'], ['connector-health', 'connector-silent', '2026-12-01'],
    ]);
    assert.deepEqual(bodies.find((b) => b.data.day === '2026-12-01' && b.data.code === 'certificate-expiring')!.data, {
      tenant: 'contoso', connector: 'mailserver', code: 'certificate-expiring', message: 'the certificate expires in 12 days', fingerprint: 'AB:CD', day: '2026-12-01',
    });
  } finally {
    await receiver.stop();
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
