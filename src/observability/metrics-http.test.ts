/**
 * The guard of /metrics over real HTTP on loopback: the client address (allowFrom, checked first),
 * then the bearer token, with the exact status codes; and the same route mounted on another
 * fastify instance (the admin API's way in).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import Fastify from 'fastify';
import { createMetrics } from './metrics.js';
import { mountMetrics, startMetricsServer, type RunningMetricsServer } from './metrics-http.js';

const TOKEN = 'scrape-token-0123456789';
const metrics = createMetrics({ tenantLabelLimit: 5, processMetrics: false });
metrics.recorder.connection('smtp', 'accepted');
let guarded: RunningMetricsServer;
let open: RunningMetricsServer;

before(async () => {
  guarded = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, access: { token: TOKEN, allowFrom: ['127.0.0.1/32'] } });
  open = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, access: {} });
});
after(async () => {
  await guarded.close();
  await open.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, options: { path?: string; method?: string; from?: string; authorization?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1', port, path: options.path ?? '/metrics', method: options.method ?? 'GET',
        ...(options.from ? { localAddress: options.from } : {}),
        headers: options.authorization ? { authorization: options.authorization } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('the right token from an allowed address gets the metrics', async () => {
  const a = await get(guarded.port, { from: '127.0.0.1', authorization: `Bearer ${TOKEN}` });
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(a.body, /^relaygate_smtp_connections_total\{listener="smtp",outcome="accepted"\} 1$/m);
});

test('no token: 401 with a Bearer challenge', async () => {
  const a = await get(guarded.port, { from: '127.0.0.1' });
  assert.equal(a.status, 401);
  assert.equal(a.headers['www-authenticate'], 'Bearer realm="relaygate-metrics"');
  assert.equal(a.body, 'a bearer token is required\n');
});

test('a wrong token, a token of another length, another scheme: 401, invalid_token', async () => {
  for (const authorization of [`Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}${TOKEN}`, `Bearer x`]) {
    const a = await get(guarded.port, { from: '127.0.0.1', authorization });
    assert.equal(a.status, 401, authorization);
    assert.equal(a.headers['www-authenticate'], 'Bearer realm="relaygate-metrics", error="invalid_token"');
    assert.equal(a.body, 'invalid token\n');
  }
  const basic = await get(guarded.port, { from: '127.0.0.1', authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` });
  assert.equal(basic.status, 401);
  assert.equal(basic.headers['www-authenticate'], 'Bearer realm="relaygate-metrics"');
});

test('a client outside allowFrom gets 403, even with the right token', async () => {
  const a = await get(guarded.port, { from: '127.0.0.2', authorization: `Bearer ${TOKEN}` });
  assert.equal(a.status, 403);
  assert.equal(a.body, 'forbidden: this client address may not scrape metrics\n');
  assert.doesNotMatch(a.body, /relaygate_/);
});

test('other paths answer 404 and other methods 405', async () => {
  assert.equal((await get(guarded.port, { path: '/', authorization: `Bearer ${TOKEN}` })).status, 404);
  const post = await get(guarded.port, { method: 'POST', authorization: `Bearer ${TOKEN}` });
  assert.equal(post.status, 405);
  assert.equal(post.headers['allow'], 'GET, HEAD');
});

test('without a token or allowFrom, any client that reaches the address scrapes', async () => {
  assert.equal((await get(open.port, { from: '127.0.0.2' })).status, 200);
});

test('mounted on another fastify instance, the route keeps its own guard', async () => {
  const app = Fastify({ logger: false });
  app.get('/v1/other', async () => ({ ok: true }));
  mountMetrics(app, metrics.registry, { token: TOKEN });
  try {
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /relaygate_smtp_connections_total/);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/other' })).statusCode, 200);
  } finally {
    await app.close();
  }
});
