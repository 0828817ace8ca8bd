import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCodeOf, errorCodes, errorLogFields, RelaygateError, type ErrorCode } from './errors.js';
import { Replies } from './reply.js';
import { ConfigError } from '../config/load.js';
import { DeliveryError, LocalFailures } from '../delivery/outcome.js';
import { DnsTemporaryError } from '../delivery/dns/resolver.js';
import { SrsError } from '../delivery/srs.js';
import { CsvError } from '../compliance/message-trace-csv.js';
import { MessageTraceError } from '../compliance/message-trace.js';
import { ScenarioError } from '../compliance/scenario.js';
import { DataDirLockedError } from '../app/data-dir-lock.js';
import { BareLineEndingError, NulCharacterError } from '../smtp/line-ending-guard.js';
import { ProxyHeaderError } from '../smtp/proxy-protocol.js';
import { StorageError } from '../queue/accept.js';
import { TransitionError } from '../queue/states.js';
import { ExchangeImportError } from '../exchange/import-error.js';
import { DirectoryValidationError } from '../directory/validate.js';
import { DirectoryEditError } from '../directory/edits.js';
import { CliError } from '../cli/errors.js';

test('every error class is a RelaygateError with its code and structured details', () => {
  const cases: Array<[RelaygateError, ErrorCode, Record<string, unknown>]> = [
    [new ConfigError('bad', ['listeners[0].tls: bad']), 'invalid', { problems: ['listeners[0].tls: bad'] }],
    [new DeliveryError(LocalFailures.nullMx('x.example')), 'delivery-failed', {
      scope: 'message', permanent: true, remote: false, reply: '556 5.1.10 Recipient address has null MX: x.example does not accept mail (RFC 7505)',
    }],
    [new DnsTemporaryError('MX x.example', 'ETIMEOUT'), 'unavailable', { query: 'MX x.example', dnsCode: 'ETIMEOUT' }],
    [new SrsError('not an address: x'), 'invalid', {}],
    [new CsvError('line 3: unclosed quote'), 'invalid', {}],
    [new MessageTraceError('trace.csv: empty'), 'invalid', {}],
    [new MessageTraceError('no tenant named x', 'not-found'), 'not-found', {}],
    [new ScenarioError('s.yaml: bad'), 'invalid', {}],
    [new DataDirLockedError('locked', { dataDir: '/d', nodeId: 'n1', pid: 7 }), 'conflict', { dataDir: '/d', nodeId: 'n1', pid: 7 }],
    [new BareLineEndingError(12), 'invalid', { offset: 12 }],
    [new NulCharacterError(3), 'invalid', { offset: 3 }],
    [new ProxyHeaderError('bad header'), 'invalid', {}],
    [new StorageError('cannot store', { cause: new Error('disk full') }), 'store-unavailable', {}],
    [new TransitionError('delivered', 'queued'), 'conflict', { from: 'delivered', to: 'queued' }],
    [new ExchangeImportError('x.json: empty'), 'invalid', {}],
    [new DirectoryValidationError([{ path: ['tenants', 0, 'name'], location: 'tenants[a]', field: 'name', reason: 'bad' }]), 'invalid', {
      issues: [{ path: ['tenants', 0, 'name'], location: 'tenants[a]', field: 'name', reason: 'bad' }],
    }],
    [new DirectoryEditError('tenant x does not exist', 'not-found'), 'not-found', {}],
    [new DirectoryEditError('tenant x already exists', 'exists'), 'conflict', {}],
    [new CliError('give either --json or --csv'), 'invalid', {}],
  ];
  for (const [err, code, details] of cases) {
    assert.ok(err instanceof RelaygateError, err.name);
    assert.equal(err.code, code, err.name);
    assert.deepEqual({ ...err.details }, details, err.name);
    assert.ok(errorCodes.includes(err.code));
  }
  assert.equal((cases.find(([e]) => e instanceof StorageError)![0].cause as Error).message, 'disk full', 'the cause is kept');
});

test('anything that is not a RelaygateError is internal; log fields carry code, details and causes, a bug its stack', () => {
  assert.equal(errorCodeOf(new TypeError('x is undefined')), 'internal');
  assert.equal(errorCodeOf('a string'), 'internal');
  const wrapped = new RelaygateError('store-unavailable', 'cannot store message q1', {
    details: { queueId: 'q1' },
    cause: new Error('SQLITE_FULL: database or disk is full', { cause: new Error('ENOSPC') }),
  });
  assert.deepEqual(errorLogFields(wrapped), {
    code: 'store-unavailable',
    details: { queueId: 'q1' },
    causes: ['SQLITE_FULL: database or disk is full', 'ENOSPC'],
  });
  const bug = errorLogFields(new TypeError('x is undefined'));
  assert.equal(bug.code, 'internal');
  assert.match(String(bug.stack), /^TypeError: x is undefined\n {4}at /);
  assert.equal(Replies.temporaryFailure.code, 451);
});

test('no error class outside core/errors.ts extends Error directly', () => {
  const src = fileURLToPath(new URL('../../../src/', import.meta.url));
  const offences: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const name = relative(src, path).split('\\').join('/');
        readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
          if (/\bextends\s+(Error|TypeError|RangeError)\b/.test(line) && name !== 'core/errors.ts') offences.push(`src/${name}:${i + 1}`);
        });
      }
    }
  };
  walk(src);
  assert.deepEqual(offences, [], 'extend RelaygateError with a code from core/errors.ts');
});
