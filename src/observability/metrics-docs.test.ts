/**
 * The Grafana dashboard, the Prometheus alert rules and docs/metrics.md name only metrics the
 * registry has (with a histogram's _bucket, _sum and _count series), and docs/metrics.md lists
 * every relaygate metric the registry has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Histogram } from 'prom-client';
import { createMetrics } from './metrics.js';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteQueueStatsStore } from '../store/sqlite/queue-stats.js';
import { SqliteConnectorHealthStore } from '../store/sqlite/connector-health-store.js';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.js';
import { ConnectorHealthService } from '../health/health-service.js';

const docs = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../docs/${path}`, import.meta.url)), 'utf8');

function registryNames(): { metrics: Set<string>; series: Set<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-docs-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    const certificates = new ConnectorHealthService({ directory: new SqliteDirectoryStore(db), health: new SqliteConnectorHealthStore(db) });
    const { registry } = createMetrics({ tenantLabelLimit: 50, queueStats: new SqliteQueueStatsStore(db), certificates });
    const metrics = new Set<string>();
    const series = new Set<string>();
    for (const m of registry.getMetricsAsArray()) {
      metrics.add(m.name);
      series.add(m.name);
      if (m instanceof Histogram) for (const s of ['_bucket', '_sum', '_count']) series.add(m.name + s);
    }
    return { metrics, series };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const METRIC_NAME = /\b(?:relaygate|process|nodejs)_[a-z0-9_]+\b/g;

function namesIn(exprs: readonly string[]): Set<string> {
  return new Set(exprs.flatMap((e) => e.match(METRIC_NAME) ?? []));
}

function dashboardExprs(): string[] {
  const dashboard = JSON.parse(docs('grafana/relaygate-dashboard.json')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

function alertExprs(): { names: string[]; exprs: string[] } {
  const rules = parseYaml(docs('prometheus/relaygate-alerts.yml')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  const all = rules.groups.flatMap((g) => g.rules);
  return { names: all.map((r) => r.alert), exprs: all.map((r) => r.expr) };
}

test('every metric the Grafana dashboard queries is in the registry, and it shows every relaygate metric', () => {
  const { metrics, series } = registryNames();
  const used = namesIn(dashboardExprs());
  assert.deepEqual([...used].filter((n) => !series.has(n)), []);
  const shown = new Set([...used].map((n) => n.replace(/_(bucket|sum|count)$/, '')));
  assert.deepEqual([...metrics].filter((n) => n.startsWith('relaygate_') && !shown.has(n)), []);
});

test('every metric the alert rules use is in the registry, and the rules cover what docs/metrics.md promises', () => {
  const { series } = registryNames();
  const { names, exprs } = alertExprs();
  const used = namesIn(exprs);
  assert.deepEqual([...used].filter((n) => !series.has(n)), []);
  assert.deepEqual(names, [
    'RelaygateQueueOldWaiting',
    'RelaygateDeferredGrowing',
    'RelaygateLegacyOnlyMail',
    'RelaygateConnectorCertificateExpiring',
    'RelaygateServerCertificateExpiring',
    'RelaygateLeasesExpired',
    'RelaygateQueueUnreadable',
    'RelaygateConnectorHealthUnreadable',
  ]);
  for (const name of names) assert.match(docs('metrics.md'), new RegExp('`' + name + '`'), `docs/metrics.md describes ${name}`);
});

test('docs/metrics.md lists exactly the relaygate metrics of the registry', () => {
  const { metrics } = registryNames();
  const listed = [...docs('metrics.md').matchAll(/^\| `(relaygate_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual([...listed].sort(), [...metrics].filter((n) => n.startsWith('relaygate_')).sort());
});
