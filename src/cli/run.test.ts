/** runCli in-process: one fresh program per run, the exit code returned, nothing left on the process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from './testing.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/check/', import.meta.url));

test('runs do not leak into each other or into the process', async () => {
  const s = cliSandbox();
  try {
    const refused = await s.runRaw(['check', `${EXAMPLES}05-open-relay-attempt.yaml`, '--json']);
    assert.equal(refused.code, 1);
    const accepted = await s.runRaw(['check', `${EXAMPLES}01-app-with-accepted-sender.yaml`, '--json']);
    assert.equal(accepted.code, 0, 'the previous run\'s negative answer is not carried over');
    assert.deepEqual(await s.runRaw(['--version']), { code: 0, stdout: '0.1.0\n', stderr: '' });
    assert.equal((await s.runRaw(['tenant', 'list', '--bogus'])).code, 2);
    assert.deepEqual(await s.run('tenant', 'list'), { code: 0, stdout: 'no tenants\n', stderr: '' });
    assert.equal(process.exitCode, undefined);
  } finally {
    s.cleanup();
  }
});

test('help and errors of commands that are not loaded yet: all commands are known', async () => {
  const s = cliSandbox();
  try {
    assert.deepEqual(await s.runRaw(['tenat', 'list']), { code: 2, stdout: '', stderr: "error: unknown command 'tenat'\n(Did you mean tenant?)\n" });
    const help = await s.runRaw(['help', 'tenant']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: relaygate tenant \[options\] \[command\]\n\nList, show, add, change and remove tenants\n/);
    const sub = await s.runRaw(['tenant', '--help']);
    assert.deepEqual(sub, help);
  } finally {
    s.cleanup();
  }
});

test('help of a subcommand: `help queue list` is `queue list --help`, not the group\'s help', async () => {
  const s = cliSandbox();
  try {
    const viaHelp = await s.runRaw(['help', 'queue', 'list']);
    assert.equal(viaHelp.code, 0);
    assert.match(viaHelp.stdout, /^Usage: relaygate queue list \[options\]\n/);
    assert.deepEqual(viaHelp, await s.runRaw(['queue', 'list', '--help']));
    assert.match((await s.runRaw(['help', 'connector', 'add'])).stdout, /^Usage: relaygate connector add \[options\] <tenant> <name>\n/);
    assert.match((await s.runRaw(['help', 'queue'])).stdout, /^Usage: relaygate queue \[options\] \[command\]\n/, 'one word: the group');
    const unknown = await s.runRaw(['help', 'bogus', 'x']);
    assert.equal(unknown.code, 2, 'an unknown command stays an error');
  } finally {
    s.cleanup();
  }
});
