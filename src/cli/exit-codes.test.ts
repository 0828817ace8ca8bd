/**
 * One exit-code rule for every command (README "Commands", docs/errors.md): 1 when what the command
 * names does not exist, 2 when the input or the usage is invalid or conflicts with the directory.
 * Table-driven, in-process through runCli, against a store holding the demo directory.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandNames } from './commands/index.js';
import { cliSandbox, type CliSandbox } from './testing.js';

const DEMO = fileURLToPath(new URL('../../../examples/demo/tenants.yaml', import.meta.url));
const TRACE = fileURLToPath(new URL('../../../examples/exchange-online/message-trace.csv', import.meta.url));
const NO_ID = '01abcdefghjkmnpqrstv';

type Row = readonly [args: readonly string[], code: 1 | 2, stderr: RegExp];

/** Paths that name something that does not exist: exit 1. */
const NOT_FOUND: readonly Row[] = [
  [['tenant', 'show', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['tenant', 'set', 'nobody', '--rule-set', 'legacy'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['tenant', 'remove', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['domain', 'add', 'nobody', 'x.example'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['domain', 'remove', 'nope.example'], 1, /^relaygate: nope\.example is not an accepted domain of any tenant\n$/],
  [['domain', 'list', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['connector', 'list', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['connector', 'show', 'nobody', 'x'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['connector', 'show', 'demo', 'x'], 1, /^relaygate: tenant demo has no connector x\n$/],
  [['connector', 'add', 'nobody', 'x', '--type', 'OnPremises', '--ip', '192.0.2.1'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['connector', 'set', 'demo', 'x', '--enabled', 'false'], 1, /^relaygate: tenant demo has no connector x\n$/],
  [['connector', 'remove', 'demo', 'x'], 1, /^relaygate: tenant demo has no connector x\n$/],
  [['report', 'impact', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['trace', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['trace', 'show', NO_ID], 1, new RegExp(`^relaygate: nothing is recorded in the trace for ${NO_ID} `)],
  [['check', '--tenant', 'nobody'], 1, /^relaygate: no tenant named nobody\n$/],
  [['check', '--message-trace', TRACE, '--tenant', 'nobody'], 1, /^relaygate: no tenant named nobody in the directory \(tenants: demo, fabrikam\)\n$/],
  [['queue', 'show', NO_ID], 1, new RegExp(`^relaygate: message ${NO_ID} is not in the queue\\n$`)],
  [['queue', 'retry', NO_ID], 1, new RegExp(`^relaygate: message ${NO_ID} is not in the queue; nothing was changed\\n$`)],
  [['queue', 'delete', NO_ID], 1, new RegExp(`^relaygate: message ${NO_ID} is not in the queue; nothing was changed\\n$`)],
  [['queue', 'list', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['dkim', 'list', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['dkim', 'generate', '--tenant', 'nobody', '--domain', 'x.example', '--selector', 's1'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['route', 'list', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['route', 'remove', 'demo', '999'], 1, /^relaygate: route 999 of tenant demo does not exist\n$/],
  [['quota', 'show', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['quota', 'set', 'nobody', '5'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['srs', 'show', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['headers', 'show', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['headers', 'set', 'nobody', '--relayed', 'keep'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['token', 'create', '--tenant', 'nobody'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['token', 'revoke', '01KDVDNA00ZZZZZZZZZZZZZZZZ'], 1, /^relaygate: token 01KDVDNA00ZZZZZZZZZZZZZZZZ does not exist\n$/],
  [['webhook', 'add', '--tenant', 'nobody', '--url', 'https://hooks.example/x', '--events', 'delivered'], 1, /^relaygate: tenant nobody does not exist\n$/],
  [['webhook', 'rotate', 'wh_nope'], 1, /^relaygate: webhook subscription wh_nope does not exist\n$/],
  [['webhook', 'replay', '12345'], 1, /^relaygate: webhook delivery 12345 does not exist\n$/],
  [['store', 'copy', '--from', 'sqlite', '--to', 'postgres://relay@127.0.0.1:9/relay', '--config', 'no-store.yaml'], 1, /^relaygate: \/.*\/empty\/relaygate\.db does not exist: there is no SQLite store to copy\n$/],
];

/** Invalid input or usage, and requests that conflict with the directory: exit 2. */
const INVALID: readonly Row[] = [
  [['migrate', '--config', 'nope.yaml'], 2, /^relaygate: --config nope\.yaml: not found\n$/],
  [['apply', '-f', 'nope.yaml'], 2, /^relaygate: -f nope\.yaml: not found\n$/],
  [['apply'], 2, /^error: required option '-f, --file <file>' not specified\n$/],
  [['export', '-o', '/nonexistent/folder/tenants.yaml'], 2, /^relaygate: -o \/nonexistent\/folder\/tenants\.yaml: not found\n$/],
  [['tenant', 'add', 'demo'], 2, /^relaygate: tenant demo already exists\n$/],
  [['tenant', 'add', ''], 2, /^relaygate: invalid directory \(1 problem\):\n {2}tenants\[2\]: name: must not be empty\n$/],
  [['tenant', 'set', 'demo'], 2, /^relaygate: nothing to change: give --rule-set or --reject-direct-send\n$/],
  [['domain', 'add', 'demo', 'demo.example'], 2, /^relaygate: demo\.example already belongs to tenant demo\n$/],
  [['domain', 'add', 'demo', 'bad..domain'], 2, /^relaygate: invalid directory \(1 problem\):\n {2}tenant demo, accepted domain bad\.\.domain: domain: "bad\.\.domain" is not a valid domain name\n$/],
  [['connector', 'add', 'demo', 'x', '--type', 'OnPremises', '--ip', '999.1.1.1'], 2, /senderIPAddresses\[0\]: "999\.1\.1\.1" is not an IP address or CIDR range\n$/],
  [['connector', 'add', 'demo', 'loopback', '--type', 'OnPremises', '--ip', '192.0.2.1'], 2, /^relaygate: tenant demo already has a connector loopback\n$/],
  [['check', '--eml', 'nope.eml', '--ip', '192.0.2.1'], 2, /^relaygate: --eml \/.*\/nope\.eml: not found\n$/],
  [['check', '--tenant', 'demo', '--at', 'yesterday'], 2, /^relaygate: --at: not an ISO 8601 instant: yesterday\n$/],
  [['check', 'nope.yaml'], 2, /^relaygate: scenario .*nope\.yaml: not found\n$/],
  [['import', 'exchange-online', '--accepted-domains', 'nope.json', '--inbound-connectors', 'nope.json'], 2, /^relaygate: --accepted-domains .*nope\.json: not found\n$/],
  [['serve', '--config', 'nope.yaml'], 2, /^relaygate: --config nope\.yaml: not found\n$/],
  [['queue', 'list', '--state', 'bogus'], 2, /^relaygate: unknown recipient state bogus: /],
  [['queue', 'list', '--limit', 'abc'], 2, /^relaygate: the limit must be a positive whole number\n$/],
  [['queue', 'list', '--limit', '0'], 2, /^relaygate: the limit must be a positive whole number, not 0\n$/],
  [['dkim', 'generate', '--tenant', 'demo'], 2, /^error: required option/],
  [['route', 'add', 'demo', '--domain', 'x.example', '--host', 'bad host'], 2, /^relaygate: --host: expected /],
  [['quota', 'set', 'demo', 'abc'], 2, /^relaygate: LIMIT: expected a whole number/],
  [['srs', 'set', 'demo', '--bogus'], 2, /^error: unknown option '--bogus'\n/],
  [['headers', 'set', 'demo', '--relayed', 'maybe'], 2, /^error: option '--relayed <choice>' argument 'maybe' is invalid\. Allowed choices are keep, strip\.\n$/],
  [['token', 'create', '--admin', '--scope', 'root'], 2, /^relaygate: --scope: expected read or write, got "root"\n$/],
  [['webhook', 'add', '--tenant', 'demo', '--url', 'http://10.0.0.1/hooks', '--events', 'delivered'], 2, /^relaygate: --url: webhook target 10\.0\.0\.1 is an address in a private, loopback or link-local range \(set webhooks\.allowPrivateTargets to allow it\)\n$/],
  [['trace', '--status', 'Bounced'], 2, /^relaygate: "Bounced" is not a trace status \(Delivered, Failed, Pending, Expanded, Refused, Deferred\)\n$/],
  [['report', 'impact', '--since', 'yesterday'], 2, /^relaygate: since "yesterday" is not a duration \(30d, 12h, 90m, 2w\) or an ISO 8601 date or instant/],
  [['store', 'copy', '--from', 'mysql', '--to', 'postgres://relay@127.0.0.1:9/relay'], 2, /^relaygate: --from: only "sqlite" can be copied from, got "mysql"\n$/],
];

let s: CliSandbox;
before(async () => {
  s = cliSandbox();
  assert.equal((await s.run('apply', '-f', DEMO)).code, 0);
  writeFileSync(join(s.dir, 'no-store.yaml'), 'hostname: test.example\ndataDir: ./empty\n');
});
after(() => s.cleanup());

test('the table has a not-found or an invalid-input row for every command, and both where a command can name something', () => {
  const covered = (rows: readonly Row[]) => new Set(rows.map(([args]) => args[0]!));
  for (const name of commandNames()) assert.ok(covered(INVALID).has(name), `no invalid-input row for ${name}`);
  const naming = commandNames().filter((n) => !['migrate', 'apply', 'export', 'import', 'serve'].includes(n));
  for (const name of naming) assert.ok(covered(NOT_FOUND).has(name), `no not-found row for ${name}`);
});

for (const [args, code, stderr] of [...NOT_FOUND, ...INVALID]) {
  test(`relaygate ${args.join(' ')} → exit ${code}`, async () => {
    // A row with its own --config runs as given (s.run would add the sandbox's after it, and win).
    const r = args.includes('--config') ? await s.runRaw([...args]) : await s.run(...args);
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, stderr);
  });
}
