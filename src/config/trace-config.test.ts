import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index.js';
import { retentionByKind } from '../trace/retention.js';
import { traceEventKinds } from '../trace/events.js';

const DAY = 86_400_000;

function load(trace: string): ReturnType<typeof loadConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-trace-config-'));
  try {
    const file = join(dir, 'relaygate.yaml');
    writeFileSync(file, `hostname: relay.test\nlisteners:\n  - { name: smtp, address: "127.0.0.1:2525", tls: none }\n${trace}`);
    return loadConfig(file, {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function problems(trace: string): readonly string[] {
  try {
    load(trace);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return assert.fail('expected the configuration to be refused');
}

test('trace retention: 30 days for every kind unless set; a kind set on its own keeps its age, the others the default', () => {
  const none = load('');
  assert.deepEqual(retentionByKind(none.trace.retention), Object.fromEntries(traceEventKinds.map((k) => [k, 30 * DAY])));
  assert.equal(none.trace.pruneInterval, 3_600_000);
  assert.equal(none.trace.pruneBatch, 1_000);
  const set = load('trace:\n  retention: { default: 90d, refused: 7d, connected: 48h, dsn-queued: 1d }\n  pruneInterval: 10m\n  pruneBatch: 500\n');
  const byKind = retentionByKind(set.trace.retention);
  assert.deepEqual([byKind.refused, byKind.connected, byKind['dsn-queued'], byKind.delivered, byKind.deleted], [7 * DAY, 2 * DAY, DAY, 90 * DAY, 90 * DAY]);
  assert.deepEqual([set.trace.pruneInterval, set.trace.pruneBatch], [600_000, 500]);
});

test('trace retention: an unknown kind, an age under an hour or not a duration, and a batch of 0 are refused with their paths', () => {
  assert.deepEqual(problems('trace:\n  retention: { bounced: 7d }\n'), ['trace.retention.bounced: unknown key']);
  assert.deepEqual(problems('trace:\n  retention: { refused: 10m }\n'), ['trace.retention.refused: expected at least 1h']);
  assert.deepEqual(problems('trace:\n  retention: { default: soon }\n'), ['trace.retention.default: expected a duration such as 30s, 1m, 24h or a number of milliseconds, got "soon"']);
  assert.deepEqual(problems('trace:\n  pruneBatch: 0\n'), ['trace.pruneBatch: expected a positive integer']);
});
