/**
 * Without --config and without ./relaygate.yaml a command reads the demo store: it says so, on
 * stderr, in one line naming the data directory; with a configuration it says nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliSandbox, runCliCaptured } from './testing.js';

test('a store read with the demo settings says which data directory it is, once, on stderr', async () => {
  const s = cliSandbox();
  const empty = mkdtempSync(join(tmpdir(), 'relaygate-nocfg-'));
  try {
    const notice = (dataDir: string) => `relaygate: no --config and no ./relaygate.yaml: using the built-in demo settings, data directory ${dataDir}\n`;
    assert.deepEqual(await runCliCaptured(['tenant', 'list'], { env: s.env, cwd: empty }), { code: 0, stdout: 'no tenants\n', stderr: notice(join(empty, 'data')) });
    const other = join(empty, 'elsewhere');
    mkdirSync(other);
    const env = { ...s.env, RELAYGATE_DATA_DIR: other };
    const overridden = await runCliCaptured(['connector', 'list'], { env, cwd: empty });
    assert.deepEqual(overridden, { code: 0, stdout: 'no connectors\n', stderr: notice(other) });
    const audit = await runCliCaptured(['check', '--tenant', 'nobody'], { env: s.env, cwd: empty });
    assert.deepEqual(audit, { code: 1, stdout: '', stderr: `${notice(join(empty, 'data'))}relaygate: no tenant named nobody\n` });
    // With ./relaygate.yaml (the sandbox's folder) or --config: nothing to say.
    assert.deepEqual(await s.runRaw(['tenant', 'list']), { code: 0, stdout: 'no tenants\n', stderr: '' });
    assert.deepEqual(await runCliCaptured(['tenant', 'list', '--config', s.config], { env: s.env, cwd: empty }), { code: 0, stdout: 'no tenants\n', stderr: '' });
  } finally {
    s.cleanup();
    rmSync(empty, { recursive: true, force: true });
  }
});
