/**
 * The admin API over real HTTP(S) on 127.0.0.1, started by `relaygate serve` with admin.tls, with
 * tokens made by `relaygate token create`: what an operator does with curl.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { relaygateBin, runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { HARNESS_DIRECTORY } from '../support/admin-api.js';

let dir: string;
let pki: TestPki;
let serve: ServeProcess;
let port: number;
let adminToken: string;
let fabrikamToken: string;
const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; text?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: '127.0.0.1', port, method, path, ca: pki.ca.cert, servername: 'localhost', timeout: 10_000,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: options.text ? text : text ? JSON.parse(text) : null }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-admin-http-'));
  pki = createTestPki();
  writeFileSync(join(dir, 'tenants.yaml'), HARNESS_DIRECTORY);
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `hostname: relay.test\ndataDir: ./data\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\ndelivery: { enabled: false }\n` +
      `admin:\n  address: "127.0.0.1:0"\n  tls: { cert: ${pki.server.certPath}, key: ${pki.server.keyPath} }\n` +
      `metrics:\n  address: "127.0.0.1:0"\n  token: ${METRICS_TOKEN}\n`,
  );
  assert.equal((await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], dir)).code, 0);
  const admin = await runRelaygate(['token', 'create', '--admin', '--json', '--config', 'relaygate.yaml'], dir);
  assert.equal(admin.code, 0, admin.stderr);
  adminToken = (JSON.parse(admin.stdout) as { token: string }).token;
  fabrikamToken = (JSON.parse((await runRelaygate(['token', 'create', '--tenant', 'fabrikam', '--json', '--config', 'relaygate.yaml'], dir)).stdout) as { token: string }).token;
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['smtp']);
  await serve.waitForStderr(/admin API listening on https:\/\/127\.0\.0\.1:\d+/);
  port = Number(/admin API listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(serve.stderr())![1]);
});

after(async () => {
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
  pki?.cleanup?.();
});

test('over HTTPS: health and readiness without a token; the directory with an admin token; 401 without', async () => {
  assert.deepEqual(await call('GET', '/healthz').then((r) => [r.status, r.json]), [200, { status: 'ok' }]);
  const ready = await call('GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.json.checks.store.ok, true);
  assert.match(ready.json.checks.listeners.detail, /^smtp 127\.0\.0\.1:\d+$/);
  const tenants = await call('GET', '/v1/tenants', { token: adminToken });
  assert.equal(tenants.status, 200);
  assert.deepEqual(tenants.json.map((t: { name: string }) => t.name), ['contoso', 'fabrikam']);
  assert.equal(tenants.headers.etag, '"dir-1"');
  const none = await call('GET', '/v1/tenants');
  assert.deepEqual([none.status, none.json.type, none.headers['www-authenticate'], none.headers['content-type']], [401, 'unauthorized', 'Bearer realm="relaygate"', 'application/problem+json; charset=utf-8']);
  const doc = await call('GET', '/openapi.json');
  assert.equal(doc.json.openapi, '3.1.0');
});

test("over HTTPS: another tenant's token gets 404 for contoso; two admins with one ETag: the second gets 412", async () => {
  const contoso = (await call('GET', '/v1/tenants', { token: adminToken })).json[0];
  for (const path of [`/v1/tenants/${contoso.id}`, '/v1/tenants/contoso/connectors/apps', '/v1/tenants/contoso/domains']) {
    const r = await call('GET', path, { token: fabrikamToken });
    assert.deepEqual([r.status, r.json.type], [404, 'not-found'], path);
  }
  const read = await call('GET', `/v1/tenants/${contoso.id}`, { token: adminToken });
  const etag = read.headers.etag as string;
  const one = await call('PATCH', `/v1/tenants/${contoso.id}`, { token: adminToken, body: { rejectDirectSend: true }, headers: { 'if-match': etag } });
  assert.equal(one.status, 200);
  const two = await call('PATCH', `/v1/tenants/${contoso.id}`, { token: adminToken, body: { relayRuleSet: 'legacy' }, headers: { 'if-match': etag } });
  assert.deepEqual([two.status, two.json.type], [412, 'stale-revision']);
  const now = await call('GET', `/v1/tenants/${contoso.id}`, { token: adminToken });
  assert.deepEqual([now.json.rejectDirectSend, now.json.relayRuleSet], [true, 'auto']);
  // The change reached the running relay's store: the CLI reads it.
  const shown = await runRelaygate(['tenant', 'show', 'contoso', '--json', '--config', 'relaygate.yaml'], dir);
  assert.equal(JSON.parse(shown.stdout).rejectDirectSend, true);
});

test("over HTTPS: /metrics is mounted on the admin API behind the metrics' own token, not an admin token", async () => {
  const scraped = await call('GET', '/metrics', { token: METRICS_TOKEN, text: true });
  assert.equal(scraped.status, 200);
  assert.match(scraped.json as string, /^# HELP relaygate_/m);
  assert.equal((await call('GET', '/metrics', { text: true })).status, 401);
  assert.equal((await call('GET', '/metrics', { token: adminToken, text: true })).status, 401);
});

test('serve does not start when the admin address is taken, and says which address', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const busy = (taken.address() as net.AddressInfo).port;
    writeFileSync(join(dir, 'busy.yaml'), `hostname: relay.test\ndataDir: ./data-busy\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\ndelivery: { enabled: false }\nadmin: { address: "127.0.0.1:${busy}" }\n`);
    const env = { ...process.env };
    delete env.RELAYGATE_ADMIN_ADDRESS;
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [relaygateBin, 'serve', '--config', 'busy.yaml'], { cwd: dir, env, timeout: 30_000 }, (err, _out, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
      );
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`relaygate: cannot start: admin\\.address 127\\.0\\.0\\.1:${busy}: listen EADDRINUSE`));
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});
