/**
 * `relaygate report impact` in-process against the SQLite file a real SMTP session wrote: a legacy
 * rule set tenant's scanner passes only because its header From is accepted (listed with the
 * engine's remedies), so do its mail server's bounces over a client certificate whose name is not an
 * accepted domain (listed by that name), a 2023-11 tenant's application is refused what it passed
 * before, and traffic the rule change does not touch stays out of the report.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox, type CliSandbox } from '../../src/cli/testing.js';
import { runCli } from '../../src/cli/run.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { createTestPki, type KeyPair, type TestPki } from '../support/certificates.js';

const LEGACYCO = '01JH0000000000000000000011';
const CONTOSO = '01JH0000000000000000000012';
const directoryYaml = `
tenants:
  - name: legacyco
    id: ${LEGACYCO}
    relayRuleSet: legacy
    acceptedDomains:
      - { domain: legacyco.example }
    inboundConnectors:
      - { name: scanner, type: OnPremises, senderIPAddresses: [127.0.0.2/32] }
      - { name: mailserver, type: OnPremises, tlsSenderCertificateName: mail.legacyco.example }
  - name: contoso
    id: ${CONTOSO}
    acceptedDomains:
      - { domain: contoso.example }
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [127.0.0.1/32] }
`;

let h: Harness;
let s: CliSandbox;
let pki: TestPki;
before(async () => {
  pki = createTestPki();
  const mailserver = pki.client('mailserver', { cn: 'mail.legacyco.example', dnsNames: ['mail.legacyco.example'] });
  h = await startHarness({ directory: directoryYaml, pki });
  s = cliSandbox();
  // The CLI reads the relay's own SQLite file; the directory goes into it with the ids the relay decided with.
  writeFileSync(s.config, `hostname: test.example\ndataDir: ${JSON.stringify(h.dataDir)}\nstore: sqlite\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\n`);
  writeFileSync(join(s.dir, 'tenants.yaml'), directoryYaml);
  const applied = await s.run('apply', '-f', join(s.dir, 'tenants.yaml'));
  assert.equal(applied.code, 0, applied.stderr);

  const send = async (ip: string, mailFrom: string, rcpt: string, headerFrom: string | null, cert?: KeyPair): Promise<string[]> => {
    const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: ip });
    try {
      assert.match(await c.read(), /^220 /);
      assert.match(await c.command('EHLO app.example'), /^250/);
      if (cert) {
        assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
        await c.upgrade({ key: cert.key, cert: cert.cert });
        assert.match(await c.command('EHLO mail.legacyco.example'), /^250/);
      }
      const replies = [await c.command(`MAIL FROM:<${mailFrom}>`), await c.command(`RCPT TO:<${rcpt}>`)];
      if (headerFrom !== null && replies[1]!.startsWith('250')) {
        await c.command('DATA');
        c.write(`From: Scanner <${headerFrom}>\r\nSubject: scan\r\n\r\npage\r\n.\r\n`);
        replies.push(await c.read());
      }
      await c.command('QUIT');
      return replies;
    } finally {
      c.close();
    }
  };
  const queued = /^250 2\.0\.0 OK /;
  // legacyco's scanner: a foreign P1, relayed only because the From: is legacyco's (condition 1c), twice.
  for (let i = 0; i < 2; i++) assert.match((await send('127.0.0.2', 'scanner@vendor.example', 'x@elsewhere.example', 'scanner@legacyco.example'))[2]!, queued);
  // The same scanner with a foreign From: refused under both rule sets (at end of DATA): not the rule change.
  assert.equal((await send('127.0.0.2', 'scanner@vendor.example', 'x@elsewhere.example', 'scanner@vendor.example'))[2], '550 5.7.64 TenantAttribution; Relay Access Denied');
  // legacyco's mail server, by its certificate from an address no connector has: a bounce (null P1) whose certificate name
  // is not an accepted domain (1a fails) relays only because the From: is legacyco's.
  assert.match((await send('127.0.0.4', '', 'z@elsewhere.example', 'postmaster@legacyco.example', mailserver))[2]!, queued);
  // contoso (2023-11): a foreign P1 is refused at RCPT; before 2023-11-01 it depended on the From:.
  assert.equal((await send('127.0.0.1', 'app@vendor.example', 'y@elsewhere.example', null))[1], '550 5.7.64 TenantAttribution; Relay Access Denied');
  // contoso's own P1 relays under both: not listed.
  assert.match((await send('127.0.0.1', 'app@contoso.example', 'y@elsewhere.example', 'app@contoso.example'))[2]!, queued);
  await h.relay.acceptor.drain();
});
after(async () => {
  s?.cleanup();
  await h?.stop();
  pki?.cleanup();
});

test('the table lists the source that passes only by the header From, with its remedy, and the newly refused one', async () => {
  const r = await s.run('report', 'impact');
  assert.equal(r.code, 1, 'something is touched by the rule change: a negative answer');
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^Impact of the 2023-11 relay rule, all tenants, \S+Z to \S+Z: 6 decisions recorded\.$/);
  assert.equal(lines[1], 'Passing only because of the legacy rule (the header From is accepted): 3. Refused now that passed before (or would have, with an accepted From:): 1.');
  const rows = lines.filter((l) => /^\d+ {2}/.test(l)).map((l) => l.split(/ {2,}/));
  assert.deepEqual(rows.map((c) => c.slice(0, 10)), [
    ['1', 'passes only by From: (legacy rule)', '127.0.0.2', 'legacyco', 'scanner', 'vendor.example', 'legacyco.example', 'REFUSED', 'relay', '2'],
    ['2', 'refused now, passed before', '127.0.0.1', 'contoso', 'apps', 'vendor.example', '?', 'REFUSED', 'if From: accepted', '1'],
    ['3', 'passes only by From: (legacy rule)', 'mail.legacyco.example (127.0.0.4)', 'legacyco', 'mailserver', '<>', 'legacyco.example', 'REFUSED', 'relay', '1'],
  ]);
  assert.deepEqual(rows.map((c) => c[12]), ['1, 3', '1, 3', '1, 2, 3']);
  const remedies = r.stdout.slice(r.stdout.indexOf('Remedies'));
  assert.match(remedies, /#1 127\.0\.0\.2, P1 vendor\.example, P2 legacyco\.example:\n {5}1\. Use a certificate-based OnPremises connector of legacyco whose TlsSenderCertificateName is an accepted domain/);
  assert.match(remedies, /#3 mail\.legacyco\.example \(127\.0\.0\.4\), P1 <>, P2 legacyco\.example:\n(.*\n){1}\s+2\. Add the certificate host name mail\.legacyco\.example as an accepted domain of legacyco\.\n/);
  assert.match(remedies, /3\. Make the application send with an envelope sender \(MAIL FROM\) in an accepted domain of legacyco, or add vendor\.example as an accepted domain of legacyco if it is yours\./);
});

test('--tenant narrows to one tenant; --json is one document with the groups and the totals', async () => {
  const r = await s.run('report', 'impact', '--tenant', 'LEGACYCO', '--json');
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as { query: { tenant: unknown }; groups: Array<Record<string, unknown>>; totals: Record<string, number> };
  assert.deepEqual(doc.query.tenant, { id: LEGACYCO, name: 'legacyco' });
  assert.deepEqual(doc.totals, { decisions: 4, legacyOnly: 3, newlyRefused: 0, groups: 2, ungrouped: 0 });
  assert.deepEqual(doc.groups.map((x) => [x.source, x.sourceKind, x.certificateName, x.sourceIps]), [
    ['127.0.0.2', 'ip', null, ['127.0.0.2']],
    ['mail.legacyco.example', 'certificate', 'mail.legacyco.example', ['127.0.0.4']],
  ]);
  const [g] = doc.groups;
  assert.deepEqual(
    { ...g, firstSeen: typeof g!.firstSeen, lastSeen: typeof g!.lastSeen, remedies: (g!.remedies as Array<{ rank: number }>).map((x) => x.rank) },
    {
      impact: 'legacy-only', source: '127.0.0.2', sourceKind: 'ip', sourceIps: ['127.0.0.2'], moreSourceIps: false, certificateName: null,
      tenant: 'legacyco', connector: 'scanner', attribution: 'ip', p1Domain: 'vendor.example', p2Domain: 'legacyco.example',
      verdictApplied: 'relay', verdictNow: 'rejected', verdictBefore: 'relay', decisions: 2, firstSeen: 'string', lastSeen: 'string', remedies: [1, 3],
    },
  );
});

test('--csv: a header and a record per group', async () => {
  const r = await s.run('report', 'impact', '--csv', '--tenant', 'contoso');
  assert.equal(r.code, 1, r.stderr);
  const records = r.stdout.split('\r\n');
  assert.equal(records[0], 'Impact,Source,SourceKind,SourceIPs,Tenant,Connector,Attribution,P1Domain,P2Domain,VerdictApplied,VerdictNow,VerdictBefore20231101,Decisions,FirstSeen,LastSeen,Remedy');
  assert.match(records[1]!, /^newly-refused,127\.0\.0\.1,ip,127\.0\.0\.1,contoso,apps,ip,vendor\.example,,rejected,rejected,if From: accepted,1,[^,]+Z,[^,]+Z,"\[1\] Use a certificate-based /);
  assert.deepEqual(records.slice(2), ['']);
});

test('nothing touched in the range: exit 0 and says so', async () => {
  const r = await s.run('report', 'impact', '--since', '2020-01-01', '--until', '2020-02-01');
  assert.deepEqual([r.code, r.stdout], [
    0,
    'Impact of the 2023-11 relay rule, all tenants, 2020-01-01T00:00:00.000Z to 2020-02-01T00:00:00.000Z: 0 decisions recorded.\n' +
      'Nothing here passes only because of the legacy rule, and nothing refused now passed before.\n',
  ]);
});

test('bad input changes nothing and says what is wrong: exit 2 for --since and --json with --csv, 1 for an unknown tenant', async () => {
  const since = await s.run('report', 'impact', '--since', 'yesterday');
  assert.deepEqual([since.code, since.stdout], [2, '']);
  assert.equal(since.stderr, 'relaygate: since "yesterday" is not a duration (30d, 12h, 90m, 2w) or an ISO 8601 date or instant (2026-11-01, 2026-11-01T08:00:00Z)\n');
  const order = await s.run('report', 'impact', '--since', '2026-01-01', '--until', '2025-01-01');
  assert.deepEqual([order.code, order.stderr], [2, 'relaygate: the range is empty: since 2026-01-01 (2026-01-01T00:00:00.000Z) is not before until 2025-01-01T00:00:00.000Z\n']);
  const both = await s.run('report', 'impact', '--json', '--csv');
  assert.deepEqual([both.code, both.stderr], [2, 'relaygate: give either --json or --csv, not both\n']);
  const unknown = await s.run('report', 'impact', '--tenant', 'nobody');
  assert.deepEqual([unknown.code, unknown.stdout, unknown.stderr], [1, '', 'relaygate: tenant nobody does not exist\n']);
});

test('on a terminal a progress bar runs on stderr, erased before the report; the report is the same', async () => {
  const plain = await s.run('report', 'impact', '--json');
  const stdout = { text: '', write(t: string) { this.text += t; return true; } };
  const stderr = { text: '', isTTY: true, columns: 80, write(t: string) { this.text += t; return true; } };
  const code = await runCli(['report', 'impact', '--json', '--config', s.config], { stdout, stderr, env: s.env, cwd: s.dir });
  assert.equal(code, 1);
  assert.equal(stderr.text, `\r[${'#'.repeat(40)}] 100%  4 decisions\r\x1b[2K`);
  const untimed = (text: string): string => text.replace(/"(since|until)":"[^"]+"/g, '"$1":"-"');
  assert.equal(untimed(stdout.text), untimed(plain.stdout));
});
