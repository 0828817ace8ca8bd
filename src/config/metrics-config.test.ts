import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index.js';

function load(text: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-config-'));
  try {
    const file = join(dir, 'relaygate.yaml');
    writeFileSync(file, `hostname: relay.test\n${text}`);
    return loadConfig(file, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(text, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  assert.fail('the configuration was accepted');
}

test('no metrics section: no metrics listener', () => {
  assert.equal(load('').metrics, undefined);
});

test('an empty metrics section listens on 127.0.0.1:9464 with no token, no address list and 50 tenant labels', () => {
  assert.deepEqual(load('metrics: {}\n').metrics, {
    address: { address: '127.0.0.1:9464', host: '127.0.0.1', port: 9464 },
    allowFrom: [],
    tenantLabelLimit: 50,
  });
});

test('every key given', () => {
  assert.deepEqual(load('metrics: { address: "[::]:9464", token: "0123456789abcdef", allowFrom: ["10.0.0.7", "10.1.0.0/16"], tenantLabelLimit: 5 }\n').metrics, {
    address: { address: '[::]:9464', host: '::', port: 9464 },
    token: '0123456789abcdef',
    allowFrom: ['10.0.0.7/32', '10.1.0.0/16'],
    tenantLabelLimit: 5,
  });
});

test('RELAYGATE_METRICS_TOKEN sets the token, over the file', () => {
  assert.equal(load('metrics: { token: "0123456789abcdef" }\n', { RELAYGATE_METRICS_TOKEN: 'from-the-environment-1' }).metrics?.token, 'from-the-environment-1');
});

test('a non-loopback address needs a token or an allowFrom list', () => {
  assert.deepEqual(problems('metrics: { address: "0.0.0.0:9464" }\n'), ['metrics.address: 0.0.0.0:9464 is not a loopback address: set metrics.token or metrics.allowFrom']);
  assert.equal(load('metrics: { address: "0.0.0.0:9464", allowFrom: ["192.0.2.10"] }\n').metrics?.address.host, '0.0.0.0');
  assert.equal(load('metrics: { address: "[::1]:9464" }\n').metrics?.address.host, '::1');
});

test('bad values are refused with their path', () => {
  assert.deepEqual(problems('metrics: { token: "short" }\n'), ['metrics.token: expected a token of at least 16 characters']);
  assert.deepEqual(problems('metrics: { tenantLabelLimit: -1 }\n'), ['metrics.tenantLabelLimit: expected 0 or more']);
  assert.deepEqual(problems('metrics: { address: "nowhere" }\n'), ['metrics.address: expected "host:port" or "[ipv6]:port", got "nowhere"']);
  assert.deepEqual(problems('metrics: { allowFrom: ["10.0.0.300"] }\n'), ['metrics.allowFrom[0]: "10.0.0.300" is not an IP address or CIDR range']);
  assert.deepEqual(problems('metrics: { tokn: "0123456789abcdef" }\n'), ['metrics.tokn: unknown key (did you mean token?)']);
  assert.deepEqual(problems('metrics: {}\n', { RELAYGATE_METRICS_TOKEN: 'short' }), ['RELAYGATE_METRICS_TOKEN: expected a token of at least 16 characters']);
});
