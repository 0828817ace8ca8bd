/**
 * The real `relaygate` binary, spawned: what the in-process tests cannot see (the process's exit
 * code and streams, and which modules a command loads). Every other CLI test runs in-process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox, runCliCaptured, spawnCli } from './testing.js';

test('the binary prints the same help as runCli and exits 0; an unknown command exits 2', async () => {
  const s = cliSandbox();
  try {
    const spawned = spawnCli(['--help'], { env: s.env, cwd: s.dir });
    const inProcess = await runCliCaptured(['--help'], { env: s.env, cwd: s.dir });
    assert.deepEqual(spawned, inProcess);
    assert.equal(spawned.code, 0);
    assert.match(spawned.stdout, /^Usage: relaygate \[options\] \[command\]\n/);
    assert.match(spawned.stdout, /\n {2}srs +Per-tenant SRS: on\/off and the rewrite domain\n/);
    assert.deepEqual(spawnCli(['bogus'], { env: s.env, cwd: s.dir }), { code: 2, stdout: '', stderr: "error: unknown command 'bogus'\n" });
  } finally {
    s.cleanup();
  }
});

test('tenant list in the binary: exit codes 0 and 1, and none of the mail libraries is loaded', () => {
  const s = cliSandbox();
  try {
    // A module hook that names every package the process imports, on stderr.
    const hooks = join(s.dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      'export async function resolve(spec, ctx, next) {\n' +
        "  if (/^[a-z@]/.test(spec) && !spec.startsWith('node:')) process.stderr.write(`import ${spec}\\n`);\n" +
        '  return next(spec, ctx);\n}\n',
    );
    const tracer = join(s.dir, 'trace.mjs');
    writeFileSync(tracer, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
    const env = { ...s.env, NODE_OPTIONS: `--import ${tracer}` };
    const listed = spawnCli(['tenant', 'list', '--config', s.config], { env, cwd: s.dir });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout, 'no tenants\n');
    const imported = new Set(listed.stderr.split('\n').filter((l) => l.startsWith('import ')).map((l) => l.slice(7).split('/')[0]));
    assert.ok(imported.has('better-sqlite3'), `the hook saw the imports: ${[...imported].join(', ')}`);
    for (const heavy of ['mailauth', 'mailparser', 'mailsplit', 'smtp-server', 'nodemailer', 'pino']) {
      assert.equal(imported.has(heavy), false, `tenant list imported ${heavy}`);
    }
    assert.deepEqual(spawnCli(['tenant', 'show', 'nobody', '--config', s.config], { env: s.env, cwd: s.dir }), {
      code: 1,
      stdout: '',
      stderr: 'relaygate: tenant nobody does not exist\n',
    });
  } finally {
    s.cleanup();
  }
});

test('--version loads no command: it answers from the program alone', () => {
  const s = cliSandbox();
  try {
    // A module hook that names every relative module the process imports, on stderr.
    const hooks = join(s.dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      'export async function resolve(spec, ctx, next) {\n' +
        "  if (spec.startsWith('.')) process.stderr.write(`import ${spec}\\n`);\n" +
        '  return next(spec, ctx);\n}\n',
    );
    const tracer = join(s.dir, 'trace.mjs');
    writeFileSync(tracer, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
    const r = spawnCli(['--version'], { env: { ...s.env, NODE_OPTIONS: `--import ${tracer}` }, cwd: s.dir });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '0.1.0\n');
    const imported = r.stderr.split('\n').filter((l) => l.startsWith('import '));
    assert.ok(imported.includes('import ./commands/index.js'), `the hook saw the imports: ${imported.join(', ')}`);
    const commandModules = ['migrate', 'apply', 'export', 'tenant', 'domain', 'connector', 'check', 'import', 'serve', 'queue', 'dkim', 'route', 'quota', 'srs', 'store'];
    assert.deepEqual(imported.filter((l) => commandModules.some((c) => l === `import ./${c}.js`)), []);
  } finally {
    s.cleanup();
  }
});
