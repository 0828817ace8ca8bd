/**
 * `relaygate serve` as a real process, at both ends of its life: the banner names the configuration
 * file, the data directory and the tenants it loaded (no demo hints for a real configuration), and
 * SIGTERM logs the shutdown and what it closed and committed, then exits 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { testDirectoryYaml } from '../support/test-directory.js';

let dir: string;
let serve: ServeProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-banner-'));
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `hostname: relay.test
dataDir: ./data
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery: { enabled: false }
`,
  );
  writeFileSync(join(dir, 'tenants.yaml'), testDirectoryYaml);
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
});

after(async () => {
  await serve?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the banner names the configuration file, the data directory and the tenants loaded', () => {
  assert.equal(
    serve.stdout(),
    `relaygate: configuration: ${join(dir, 'relaygate.yaml')}\n` +
      `relaygate: data directory: ${join(dir, 'data')}\n` +
      'relaygate: directory: 4 tenants (contoso, oldco, devices, fabrikam)\n' +
      `relaygate: listening on 127.0.0.1:${serve.ports.get('plain')} (plain, tls: none)\n`,
  );
});

test('SIGTERM logs the shutdown and the open session it closed, and the process exits 0', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve.ports.get('plain')! });
  assert.match(await c.read(), /^220 /);
  assert.match(await c.command('EHLO client.test'), /^250/);
  const code = await serve.stop('SIGTERM');
  assert.equal(code, 0, serve.stderr());
  await c.closed();
  const lines = serve
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const messages = lines.map((l) => l.msg);
  assert.ok(
    messages.includes('SIGTERM received: stopping (no new connections; open sessions are closed; pending commits and the delivery pass in progress finish)'),
    serve.stderr(),
  );
  const stopped = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('stopped:'));
  assert.deepEqual(stopped && { msg: stopped.msg, sessionsClosed: stopped.sessionsClosed, deliveryPassAwaited: stopped.deliveryPassAwaited }, {
    msg: 'stopped: closed 1 open session, nothing was waiting to be committed, no delivery in progress',
    sessionsClosed: 1,
    deliveryPassAwaited: false,
  });
});
