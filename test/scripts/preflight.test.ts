/**
 * scripts/preflight.mjs, which npm test runs first: on a machine without the mail tools the tests
 * need, one line says which Debian packages to install (or to run .ci/run) and the run stops there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = new URL('../../../scripts/preflight.mjs', import.meta.url);

interface Preflight {
  missingPackages(dirs: string[], postgres?: string[] | null): string[];
  preflightMessage(missing: string[]): string;
}
const preflight = (await import(script.href)) as Preflight;

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-preflight-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('nothing installed: every package is named, in the order .ci/run installs them', () => {
  withDir((dir) => {
    const missing = preflight.missingPackages([dir], [dir]);
    assert.deepEqual(missing, ['swaks', 'libnet-ssleay-perl', 'libio-socket-ssl-perl', 'postfix', 'openssl', 'postgresql']);
    assert.equal(
      preflight.preflightMessage(missing),
      "npm test needs swaks (with TLS), Postfix's tools, openssl and PostgreSQL's server binaries; missing: swaks, libnet-ssleay-perl, libio-socket-ssl-perl, postfix, openssl, postgresql. " +
        'Install them (Debian: apt-get install --no-install-recommends swaks libnet-ssleay-perl libio-socket-ssl-perl postfix openssl postgresql, ' +
        'answering Postfix\'s question with "No configuration") or run .ci/run, which does that and then runs the tests.',
    );
  });
});

test('every tool present (and perl with its TLS modules): nothing is missing', () => {
  withDir((dir) => {
    for (const name of ['swaks', 'perl', 'smtp-source', 'postfix', 'openssl', 'initdb', 'pg_ctl']) {
      writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n');
      chmodSync(join(dir, name), 0o755);
    }
    assert.deepEqual(preflight.missingPackages([dir], [dir]), []);
    chmodSync(join(dir, 'openssl'), 0o644);
    assert.deepEqual(preflight.missingPackages([dir], [dir]), ['openssl'], 'a file that is not executable does not count');
    rmSync(join(dir, 'pg_ctl'));
    assert.deepEqual(preflight.missingPackages([dir], null), ['openssl'], 'with RELAYGATE_TEST_PG_URL no server binaries are needed');
  });
});

test('run as a script on a PATH without the tools: one line on stderr, exit 1', () => {
  withDir((dir) => {
    symlinkSync(process.execPath, join(dir, 'node'));
    const r = spawnSync(join(dir, 'node'), [fileURLToPath(script)], { env: { PATH: dir }, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^npm test needs swaks \(with TLS\), Postfix's tools, openssl and PostgreSQL's server binaries; missing: swaks, [^\n]* or run \.ci\/run, which does that and then runs the tests\.\n$/);
  });
});
