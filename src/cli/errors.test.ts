import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { errorCodes, RelaygateError, type ErrorCode } from '../core/errors.js';
import { formatReply } from '../core/reply.js';
import { sessionFailureReplies } from '../smtp/error-reply.js';
import { exitCodeFor, exitCodes, reportCliError } from './errors.js';
import type { CliWriter } from './io.js';
import { cliSandbox } from './testing.js';

class Capture implements CliWriter {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const DEMO = fileURLToPath(new URL('../../../examples/demo/tenants.yaml', import.meta.url));

const EXPECTED: Record<ErrorCode, number> = {
  invalid: 2,
  'not-found': 1,
  conflict: 2,
  unsupported: 2,
  'store-unavailable': 2,
  'store-full': 2,
  'stale-revision': 2,
  'too-large': 2,
  unauthorized: 2,
  forbidden: 2,
  'rate-limited': 2,
  unavailable: 2,
  'delivery-failed': 1,
  internal: 70,
};

test('every error code has its exit code, and the message goes to stderr as it is', () => {
  assert.deepEqual(Object.keys(exitCodes).sort(), [...errorCodes].sort(), 'the table covers every code');
  for (const code of errorCodes) {
    const err = new RelaygateError(code, `something ${code}`);
    assert.equal(exitCodeFor(err), EXPECTED[code], code);
    const stderr = new Capture();
    assert.equal(reportCliError(err, stderr, {}), EXPECTED[code], code);
    assert.equal(
      stderr.text,
      code === 'internal'
        ? `relaygate: internal error: something ${code}\nThis is a bug in relaygate; run again with RELAYGATE_DEBUG=1 for the details and report it.\n`
        : `relaygate: something ${code}\n`,
    );
  }
});

test('a bug is not invalid input: exit 70, one short line, the stack only with RELAYGATE_DEBUG', () => {
  const bug = new TypeError("Cannot read properties of undefined (reading 'name')");
  const quiet = new Capture();
  assert.equal(reportCliError(bug, quiet, {}), 70);
  assert.equal(
    quiet.text,
    "relaygate: internal error: Cannot read properties of undefined (reading 'name')\n" +
      'This is a bug in relaygate; run again with RELAYGATE_DEBUG=1 for the details and report it.\n',
  );
  const debug = new Capture();
  assert.equal(reportCliError(bug, debug, { RELAYGATE_DEBUG: '1' }), 70);
  assert.match(debug.text, /\nTypeError: Cannot read properties of undefined \(reading 'name'\)\n {4}at /);
  assert.equal(reportCliError('thrown string', new Capture(), {}), 70);
});

test('runCli: a crash relaygate does not expect (a stored row it cannot read) exits 70, not 2', async () => {
  const s = cliSandbox();
  try {
    assert.equal((await s.run('apply', '-f', DEMO)).code, 0);
    const db = new Database(join(s.dir, 'data', 'relaygate.db'));
    try {
      db.exec("UPDATE inbound_connectors SET sender_ip_addresses = '{broken'");
    } finally {
      db.close();
    }
    const r = await s.run('tenant', 'list');
    assert.equal(r.code, 70, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^relaygate: internal error: [^\n]*JSON[^\n]*\nThis is a bug in relaygate; run again with RELAYGATE_DEBUG=1 for the details and report it\.\n$/);
  } finally {
    s.cleanup();
  }
});

test('docs/errors.md tabulates the same exit codes and SMTP replies as the mappers', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
  const rows = doc.split('\n').filter((l) => /^\| `[a-z-]+` \|/.test(l));
  const table = new Map(rows.map((l) => {
    const cells = l.split('|').map((c) => c.trim());
    return [cells[1]!.replace(/`/g, ''), { exit: Number(cells[4]), smtp: cells[5]!.replace(/`/g, '') }];
  }));
  assert.deepEqual([...table.keys()].sort(), [...errorCodes].sort());
  for (const code of errorCodes) {
    assert.equal(table.get(code)?.exit, exitCodes[code], code);
    assert.ok(formatReply(sessionFailureReplies[code]).startsWith(table.get(code)!.smtp), code);
  }
});
