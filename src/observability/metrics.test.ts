import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from './metrics.js';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteQueueStatsStore } from '../store/sqlite/queue-stats.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import { accepted, T0 } from '../store/queue-contract.js';
import { family, parsePrometheusText } from '../../test/support/prometheus-text.js';
import { validateDirectory } from '../directory/index.js';
import { ConnectorHealthService } from '../health/health-service.js';
import { SqliteConnectorHealthStore } from '../store/sqlite/connector-health-store.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import type { CertificateSighting } from '../store/ports.js';

const decision = (tenant: string | null, over: Partial<{ verdict: string; currentVerdict: string; legacyVerdict: string; ruleSet: string }> = {}) => ({
  verdict: 'relay', rule: 'relay', ruleSet: '2023-11', currentVerdict: 'relay', legacyVerdict: 'relay', tenant, ...over,
});

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  return parsePrometheusText(await metrics.registry.metrics());
}

test('the tenant label names the first tenantLabelLimit tenants; later ones are "other", mail without a tenant "none"', async () => {
  const metrics = createMetrics({ tenantLabelLimit: 2, processMetrics: false });
  for (const t of ['alpha', 'beta', 'gamma', 'alpha', 'delta', null]) metrics.recorder.decision(decision(t));
  metrics.recorder.delivery({ outcome: 'delivered', class: '2xx', tenant: 'gamma', endToEndSeconds: 3 });
  metrics.recorder.delivery({ outcome: 'deferred', class: 'connection', tenant: 'beta', endToEndSeconds: null });
  const samples = await scrape(metrics);
  assert.deepEqual(family(samples, 'relaygate_policy_decisions_total'), {
    'rule=relay,rule_set=2023-11,tenant=alpha,verdict=relay': 2,
    'rule=relay,rule_set=2023-11,tenant=beta,verdict=relay': 1,
    'rule=relay,rule_set=2023-11,tenant=other,verdict=relay': 2,
    'rule=relay,rule_set=2023-11,tenant=none,verdict=relay': 1,
  });
  assert.deepEqual(family(samples, 'relaygate_delivery_outcomes_total'), {
    'class=2xx,outcome=delivered,tenant=other': 1,
    'class=connection,outcome=deferred,tenant=beta': 1,
  });
});

test('a tenant label limit of 0 names no tenant', async () => {
  const metrics = createMetrics({ tenantLabelLimit: 0, processMetrics: false });
  metrics.recorder.decision(decision('alpha'));
  metrics.recorder.decision(decision(null));
  assert.deepEqual(family(await scrape(metrics), 'relaygate_policy_decisions_total'), {
    'rule=relay,rule_set=2023-11,tenant=other,verdict=relay': 1,
    'rule=relay,rule_set=2023-11,tenant=none,verdict=relay': 1,
  });
});

test('legacy-only counts what the 2023-11 rules refuse and the legacy rules relay, under either rule set in force', async () => {
  const metrics = createMetrics({ tenantLabelLimit: 10, processMetrics: false });
  metrics.recorder.decision(decision('saas', { ruleSet: 'legacy', verdict: 'relay', currentVerdict: 'rejected', legacyVerdict: 'relay' }));
  metrics.recorder.decision(decision('moved', { ruleSet: '2023-11', verdict: 'rejected', currentVerdict: 'rejected', legacyVerdict: 'relay' }));
  metrics.recorder.decision(decision('moved', { ruleSet: '2023-11', verdict: 'rejected', currentVerdict: 'rejected', legacyVerdict: 'rejected' }));
  metrics.recorder.decision(decision('ok'));
  assert.deepEqual(family(await scrape(metrics), 'relaygate_policy_legacy_only_total'), {
    'rule_set=legacy,tenant=saas': 1,
    'rule_set=2023-11,tenant=moved': 1,
  });
});

test('the queue gauges come from the queue store at scrape time, read at most once per queueStatsMaxAgeMs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-queue-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    let now = T0;
    const queue = new SqliteQueueStore(db);
    const metrics = createMetrics({ tenantLabelLimit: 10, processMetrics: false, queueStats: new SqliteQueueStatsStore(db), queueStatsMaxAgeMs: 10_000, now: () => now });
    await queue.commit({ messages: [accepted({ receivedAt: T0 - 90_000 }, ['a@remote.test', 'b@remote.test'])], decisions: [] });
    let samples = await scrape(metrics);
    assert.equal(family(samples, 'relaygate_queue_recipients')['state=queued'], 2);
    assert.deepEqual(family(samples, 'relaygate_queue_oldest_age_seconds'), { '': 90 });
    await queue.commit({ messages: [accepted({ receivedAt: T0 - 200_000 }, ['c@remote.test'])], decisions: [] });
    now = T0 + 5_000;
    samples = await scrape(metrics);
    // The reading of 5 s ago still stands (the age follows the clock); the next one after 10 s sees the new message.
    assert.equal(family(samples, 'relaygate_queue_recipients')['state=queued'], 2);
    assert.deepEqual(family(samples, 'relaygate_queue_oldest_age_seconds'), { '': 95 });
    now = T0 + 10_000;
    samples = await scrape(metrics);
    assert.equal(family(samples, 'relaygate_queue_recipients')['state=queued'], 3);
    assert.deepEqual(family(samples, 'relaygate_queue_oldest_age_seconds'), { '': 210 });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a queue that cannot be read does not fail the scrape: the last good reading stays, and the failure is counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-queue-down-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    let now = T0;
    const metrics = createMetrics({ tenantLabelLimit: 10, processMetrics: false, queueStats: new SqliteQueueStatsStore(db), queueStatsMaxAgeMs: 1_000, now: () => now });
    await new SqliteQueueStore(db).commit({ messages: [accepted({ receivedAt: T0 - 60_000 }, ['a@remote.test'])], decisions: [] });
    let samples = await scrape(metrics);
    assert.equal(family(samples, 'relaygate_queue_recipients')['state=queued'], 1);
    assert.deepEqual(family(samples, 'relaygate_queue_stats_failures_total'), { '': 0 });
    db.close();
    now = T0 + 2_000;
    samples = await scrape(metrics);
    assert.equal(family(samples, 'relaygate_queue_recipients')['state=queued'], 1);
    assert.deepEqual(family(samples, 'relaygate_queue_oldest_age_seconds'), { '': 62 });
    assert.deepEqual(family(samples, 'relaygate_queue_stats_failures_total'), { '': 1 });
    // The failed reading is not kept: the next scrape asks the store again (and fails again).
    samples = await scrape(metrics);
    assert.deepEqual(family(samples, 'relaygate_queue_stats_failures_total'), { '': 2 });
  } finally {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the connectors' certificates come from connector health; tenants past the label limit share one series with the soonest expiry", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-certs-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    const directory = new SqliteDirectoryStore(db);
    const connector = (name: string) => ({ name, type: 'OnPremises' as const, tlsSenderCertificateName: `${name}.example` });
    await directory.replace(validateDirectory({
      tenants: [
        { name: 'alpha', inboundConnectors: [connector('certs'), connector('quiet')] },
        { name: 'beta', inboundConnectors: [connector('devices')] },
        { name: 'gamma', inboundConnectors: [connector('printers')] },
      ],
    }));
    const ids = new Map((await directory.load()).tenants.map((t) => [t.name, t.id]));
    const health = new SqliteConnectorHealthStore(db);
    const now = Date.now();
    const seen = (tenant: string, connectorName: string, fingerprint: string, notAfter: number, lastSeen: number): CertificateSighting => ({
      tenantId: ids.get(tenant)!, connector: connectorName, fingerprint, subject: `CN=${connectorName}.example`, names: [`${connectorName}.example`],
      issuer: 'CN=Test CA', notBefore: now - 86_400_000, notAfter, trusted: true, firstSeen: lastSeen, lastSeen, seen: 1, nullSenders: 0, foreignSenders: 0,
    });
    await health.record({
      traffic: [],
      sources: [],
      certificates: [
        // alpha's devices moved to a renewed certificate: the one seen last counts.
        seen('alpha', 'certs', 'AA:01', Date.UTC(2027, 0, 1), now - 60_000),
        seen('alpha', 'certs', 'AA:02', Date.UTC(2028, 0, 1), now - 1_000),
        seen('beta', 'devices', 'BB:01', Date.UTC(2027, 5, 1), now - 1_000),
        seen('gamma', 'printers', 'CC:01', Date.UTC(2027, 2, 1), now - 1_000),
      ],
    });
    const metrics = createMetrics({ tenantLabelLimit: 1, processMetrics: false, certificates: new ConnectorHealthService({ directory, health }) });
    const samples = await scrape(metrics);
    assert.deepEqual(family(samples, 'relaygate_connector_certificate_expiry_timestamp_seconds'), {
      'connector=certs,tenant=alpha': Date.UTC(2028, 0, 1) / 1000,
      // beta and gamma have no label of their own: one series, the sooner of their two.
      'connector=other,tenant=other': Date.UTC(2027, 2, 1) / 1000,
    });
    assert.deepEqual(family(samples, 'relaygate_connector_certificates_read_failures_total'), { '': 0 });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
