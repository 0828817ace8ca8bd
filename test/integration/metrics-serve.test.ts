/**
 * `relaygate serve` as a process with a metrics section: the banner says where /metrics answers and
 * how it is guarded, the endpoint answers over HTTP with RELAYGATE_METRICS_TOKEN's token only, and
 * a metrics port already in use stops the start with one line naming it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { spawnRelaygate, startServe } from '../support/relaygate-process.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-metrics-serve-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the banner names the metrics address; a scrape needs the token', async () => {
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    'hostname: relay.test\ndataDir: ./data\nlisteners:\n  - { name: plain, address: "127.0.0.1:0", tls: none }\ndelivery: { enabled: false }\nmetrics: { address: "127.0.0.1:0" }\n',
  );
  const previous = process.env.RELAYGATE_METRICS_TOKEN;
  process.env.RELAYGATE_METRICS_TOKEN = 'token-from-the-environment';
  let serve;
  try {
    serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
  } finally {
    if (previous === undefined) delete process.env.RELAYGATE_METRICS_TOKEN;
    else process.env.RELAYGATE_METRICS_TOKEN = previous;
  }
  try {
    const m = /^relaygate: metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics \(bearer token\)$/m.exec(serve.stdout());
    assert.ok(m, serve.stdout());
    const url = `http://127.0.0.1:${m[1]}/metrics`;
    assert.equal((await fetch(url)).status, 401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer token-from-the-environment' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^relaygate_smtp_connections_open 0$/m);
  } finally {
    assert.equal(await serve.stop(), 0);
  }
});

test('a metrics port in use stops the start with one line naming it', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    writeFileSync(
      join(dir, 'taken.yaml'),
      `hostname: relay.test\ndataDir: ./data-taken\nlisteners:\n  - { name: plain, address: "127.0.0.1:0", tls: none }\nmetrics: { address: "127.0.0.1:${port}" }\n`,
    );
    const r = await spawnRelaygate(['serve', '--config', 'taken.yaml'], dir);
    assert.deepEqual([r.code, r.stderr], [2, `relaygate: cannot start: metrics: cannot listen on 127.0.0.1:${port}: the address is already in use\n`]);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});
