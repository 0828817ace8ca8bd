/**
 * The Exchange Online admin's path, run in-process through runCli: import the PowerShell exports, audit the
 * tenant, check a message trace; the round trip import → apply → export → import changes nothing;
 * and every malformed input ends with a clear message and exit code 2.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { cliSandbox, type CliSandbox } from '../../src/cli/testing.js';

const examples = resolve(import.meta.dirname, '../../../examples/exchange-online');
const AD = join(examples, 'accepted-domains.json');
const IC = join(examples, 'inbound-connectors.json');
const TRACE = join(examples, 'message-trace.csv');

let s: CliSandbox;
before(() => {
  s = cliSandbox();
});
after(() => s.cleanup());

const importArgs = ['import', 'exchange-online', '--accepted-domains', AD, '--inbound-connectors', IC];

describe('relaygate import exchange-online', () => {
  test('writes tenants.yaml to stdout and the summary (ignored properties, each once) to stderr', async () => {
    const r = await s.runRaw(importArgs);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseYaml(r.stdout) as { tenants: Array<{ name: string; inboundConnectors: Array<{ name: string; enabled: boolean; type: string }> }> };
    assert.equal(doc.tenants[0]?.name, 'contoso');
    assert.deepEqual(
      doc.tenants[0]?.inboundConnectors.map((c) => [c.name, c.type, c.enabled]),
      [
        ['Inbound from 7d1e5f3a-0b2c-4d6e-8f90-a1b2c3d4e5f6', 'OnPremises', true],
        ['Apps and devices', 'OnPremises', true],
        ['Fabrikam partner', 'Partner', true],
        ['Legacy relay (disabled)', 'OnPremises', false],
      ],
    );
    const lines = r.stderr.split('\n');
    assert.equal(lines[0], 'Imported tenant contoso: 3 accepted domain(s), 4 inbound connector(s) (3 OnPremises, 1 Partner, 1 disabled).');
    assert.equal(lines[1], 'Ignored (properties relaygate does not model):');
    assert.match(lines[2]!, /^ {2}Get-AcceptedDomain: CatchAllRecipientID, AddressBookEnabled, .*, ObjectState$/);
    assert.match(lines[3]!, /^ {2}Get-InboundConnector: ConnectorSource, AssociatedAcceptedDomains, .*, ObjectState$/);
    assert.equal(lines[3]!.split('Guid').length, 2, 'Guid is listed once although every connector has it');
    assert.ok(r.stderr.includes('certificate issuer "CN=Contoso Issuing CA 01, O=Contoso Ltd, C=US" is not enforced'));
  });

  test('-o merges into an existing tenants.yaml, keeping its other tenants', async () => {
    const file = join(s.dir, 'merge.yaml');
    writeFileSync(file, 'tenants:\n  - name: fabrikam\n    acceptedDomains:\n      - { domain: fabrikam.example }\n');
    const r = await s.runRaw([...importArgs, '--tenant', 'Contoso', '-o', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes('Added tenant Contoso in'));
    const doc = parseYaml(readFileSync(file, 'utf8')) as { tenants: Array<{ name: string }> };
    assert.deepEqual(doc.tenants.map((t) => t.name), ['fabrikam', 'Contoso']);
    const again = await s.runRaw([...importArgs, '--tenant', 'Contoso', '-o', file]);
    assert.ok(again.stderr.includes('Replaced tenant Contoso in'));
  });

  test('round trip: import → apply → export → import --apply changes nothing', async () => {
    const imported = join(s.dir, 'imported.yaml');
    assert.equal((await s.runRaw([...importArgs, '-o', imported])).code, 0);
    const applied = await s.run('apply', '-f', imported);
    assert.equal(applied.code, 0, applied.stderr);
    const exported = await s.run('export');
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, readFileSync(imported, 'utf8'));
    const again = await s.run(...importArgs, '--apply');
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stderr.includes('The store already matches: nothing changed.'), again.stderr);
    assert.equal((await s.run('export')).stdout, exported.stdout);
  });

  test('--apply reports what it changed, warns about what will be refused, and the next steps keep --config', async () => {
    const t = cliSandbox();
    try {
      const r = await t.run(...importArgs, '--apply');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Applied to the store:\n {2}\+ tenant contoso\n/);
      assert.match(r.stderr, /\nrelaygate: warning: tenant contoso, connector Inbound from 7d1e5f3a-0b2c-4d6e-8f90-a1b2c3d4e5f6: refused now when sent to outside recipients \(550 5\.7\.64 TenantAttribution; Relay Access Denied\): null-sender bounces; /);
      assert.ok(
        r.stderr.endsWith(
          `Next: relaygate check --tenant contoso --config ${t.config}   (audit of the configuration)\n` +
            `      relaygate check --message-trace trace.csv --tenant contoso --config ${t.config}   (impact on real traffic)\n`,
        ),
        r.stderr,
      );
      const out = join(t.dir, 'out.yaml');
      const written = await t.runRaw([...importArgs, '-o', out]);
      assert.ok(written.stderr.endsWith(`Next: relaygate check --tenant contoso --directory ${out}   (audit of the configuration)\n      relaygate check --message-trace trace.csv --tenant contoso --directory ${out}   (impact on real traffic)\n`), written.stderr);
    } finally {
      t.cleanup();
    }
  });

  const bad = (name: string, content: string): string => {
    const path = join(s.dir, name);
    writeFileSync(path, content);
    return path;
  };

  test('truncated JSON: exit 2, file named, "truncated" said', async () => {
    const text = readFileSync(AD, 'utf8');
    const file = bad('truncated.json', text.slice(0, text.length - 100));
    const r = await s.runRaw(['import', 'exchange-online', '--accepted-domains', file, '--inbound-connectors', IC]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.startsWith(`relaygate: ${file}: not valid JSON (the file looks truncated): `), r.stderr);
    assert.equal(r.stdout, '');
  });

  test('the files swapped: exit 2 naming the cmdlet', async () => {
    const r = await s.runRaw(['import', 'exchange-online', '--accepted-domains', IC, '--inbound-connectors', AD]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `relaygate: ${IC}: object 1 ("Inbound from 7d1e5f3a-0b2c-4d6e-8f90-a1b2c3d4e5f6"): this is the output of Get-InboundConnector (it has ConnectorType, SenderIPAddresses), not of Get-AcceptedDomain: are the files for --accepted-domains and --inbound-connectors swapped?\n`,
    );
  });

  test('a missing property: exit 2 naming it', async () => {
    const file = bad('no-type.json', JSON.stringify([{ Name: 'x', Enabled: true, SenderIPAddresses: ['203.0.113.1'] }]));
    const r = await s.runRaw(['import', 'exchange-online', '--accepted-domains', AD, '--inbound-connectors', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `relaygate: ${file}: Get-InboundConnector object 1 ("x"): missing property ConnectorType\n`);
  });

  test('--apply with -o: exit 2', async () => {
    const r = await s.runRaw([...importArgs, '--apply', '-o', join(s.dir, 'x.yaml')]);
    assert.deepEqual([r.code, r.stderr], [2, 'relaygate: give either --apply or -o FILE, not both\n']);
  });
});

describe('relaygate check on the imported tenant', () => {
  let directory: string;
  before(async () => {
    directory = join(s.dir, 'check.yaml');
    assert.equal((await s.runRaw([...importArgs, '-o', directory])).code, 0);
  });

  test('--tenant: the audit of the chart, exit 1 with findings', async () => {
    const r = await s.runRaw(['check', '--tenant', 'contoso', '--directory', directory]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stdout.includes('mail.contoso.com is not an accepted domain of contoso'), r.stdout);
  });

  test('--message-trace: the impact groups, human table, exit 1 when traffic is refused', async () => {
    const r = await s.runRaw(['check', '--message-trace', TRACE, '--tenant', 'contoso', '--directory', directory, '--cert-name', '198.51.100.7=mail.contoso.com']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'Message trace for tenant contoso: 8 rows, 7 recipients evaluated, 1 row without FromIP skipped (sent from mailboxes inside Exchange Online).');
    assert.match(lines[5]!, /^1 {2}203\.0\.113\.25 +monitoring-vendor\.example +Apps and devices +REFUSED +if From: accepted +2 {2}1, 3$/);
    // Inbound mail from the partner crossed the tenant's Partner connector, not none.
    assert.match(lines[8]!, /^4 {2}192\.0\.2\.10 +fabrikam\.com +Fabrikam partner +inbound +inbound +1 {2}-$/);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  });

  test('--message-trace --json and --csv', async () => {
    const j = await s.runRaw(['check', '--message-trace', TRACE, '--tenant', 'contoso', '--directory', directory, '--json']);
    assert.equal(j.code, 1);
    const doc = JSON.parse(j.stdout) as { refusedNow: number; groups: unknown[] };
    assert.deepEqual([doc.refusedNow, doc.groups.length], [4, 6]);
    const c = await s.runRaw(['check', '--message-trace', TRACE, '--tenant', 'contoso', '--directory', directory, '--csv']);
    assert.equal(c.code, 1);
    assert.equal(c.stdout.split('\r\n').length, 8);
  });

  test('--message-trace with missing columns: exit 2 naming them', async () => {
    const file = join(s.dir, 'cols.csv');
    writeFileSync(file, 'Received,SenderAddress,Subject\r\n');
    const r = await s.runRaw(['check', '--message-trace', file, '--tenant', 'contoso', '--directory', directory]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `relaygate: ${file}: missing columns RecipientAddress, FromIP (the header has: Received, SenderAddress, Subject); export with Get-MessageTraceV2 ... | Export-Csv -NoTypeInformation\n`,
    );
  });
});
