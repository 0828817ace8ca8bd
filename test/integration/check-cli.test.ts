/**
 * `relaygate check` run in-process through runCli: the bundled example scenarios, --eml with real
 * certificates from a test CA, the tenant audit, and invalid input (exit 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCliCaptured } from '../../src/cli/testing.js';
import { createTestPki, type TestPki } from '../support/certificates.js';

const root = resolve(import.meta.dirname, '../../..');
const examples = join(root, 'examples/check');
const directory = join(examples, 'tenants.yaml');

async function relaygate(...args: string[]) {
  const r = await runCliCaptured(args, { env: process.env, cwd: mkdtempSync(join(tmpdir(), 'rg-cwd-')) });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

async function json(args: string[]) {
  const r = await relaygate('check', ...args, '--json');
  return { code: r.code, doc: JSON.parse(r.out) as Record<string, unknown> & { recipients: Array<Record<string, string>> } };
}

describe('check: bundled example scenarios', () => {
  const cases: Array<[string, number, string[], string]> = [
    ['01-app-with-accepted-sender.yaml', 0, ['relay'], 'OUT-D'],
    ['02-bounce-over-ip-connector.yaml', 1, ['rejected'], 'OUT-E'],
    ['03-bounce-over-certificate-connector.yaml', 0, ['relay'], 'OUT-C'],
    ['04-saas-with-foreign-sender.yaml', 0, ['relay', 'internal'], 'OUT-E'],
    ['05-open-relay-attempt.yaml', 1, ['rejected', 'rejected'], 'OUT-F'],
  ];
  for (const [file, code, verdicts, outcome] of cases) {
    test(file, async () => {
      const { code: exit, doc } = await json([join(examples, file)]);
      assert.equal(exit, code);
      assert.deepEqual(doc.recipients.map((r) => r.verdict), verdicts);
      assert.deepEqual(Object.keys(doc), ['tenant', 'connector', 'attribution', 'ruleSet', 'recipients', 'steps', 'warnings', 'remedies', 'trustStore', 'notes']);
      assert.deepEqual([doc.trustStore, doc.notes], [null, []], 'no certificate file judged, nothing assumed');
      assert.deepEqual(Object.keys(doc.recipients[0]!), ['address', 'verdict', 'tenant', 'reply', 'currentVerdict', 'legacyVerdict']);
      const human = await relaygate('check', join(examples, file));
      assert.equal(human.code, code);
      assert.match(human.out, new RegExp(`Outcome: ${outcome} `));
    });
  }

  test('the bounce over the IP connector names both verdicts and the remedies', async () => {
    const { doc } = await json([join(examples, '02-bounce-over-ip-connector.yaml')]);
    assert.deepEqual(doc.recipients[0], {
      address: 'someone@external.example',
      verdict: 'rejected',
      tenant: null,
      reply: '550 5.7.64 TenantAttribution; Relay Access Denied',
      currentVerdict: 'rejected',
      legacyVerdict: 'relay',
    });
    const remedies = doc.remedies as Array<{ rank: number }>;
    assert.deepEqual(remedies.map((r) => r.rank), [1, 3]);
  });

  test('the percent hack is refused by hygiene, not relayed', async () => {
    const { doc } = await json([join(examples, '05-open-relay-attempt.yaml')]);
    assert.equal(doc.recipients[1]!.reply, '501 5.1.3 Invalid recipient address');
  });
});

describe('check --eml with real client certificates', () => {
  let pki: TestPki;
  let dir: string;
  let eml: string;
  before(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'rg-eml-'));
    eml = join(dir, 'ndr.eml');
    writeFileSync(
      eml,
      'Return-Path: <>\r\nFrom: Mail Delivery System <postmaster@contoso.com>\r\nTo: someone@external.example\r\nSubject: Undeliverable\r\n\r\nYour message could not be delivered.\r\n',
    );
  });
  after(() => pki.cleanup());

  const day = 86_400_000;
  const certs: Array<[string, () => string, string, string]> = [
    ['valid, signed by the trusted CA', () => pki.client('valid', { cn: 'email.contoso.com' }).certPath, 'relay', ''],
    ['valid, name only in a SAN', () => pki.client('san', { cn: 'Contoso mail server', dnsNames: ['email.contoso.com'] }).certPath, 'relay', ''],
    ['expired', () => pki.client('expired', { cn: 'email.contoso.com', notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) }).certPath, 'rejected', 'expired'],
    ['not yet valid', () => pki.client('future', { cn: 'email.contoso.com', notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 30 * day) }).certPath, 'rejected', 'not yet valid'],
    ['self-signed', () => pki.selfSigned('self', { cn: 'email.contoso.com' }).certPath, 'rejected', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['signed by an untrusted CA', () => pki.client('other', { cn: 'email.contoso.com', signer: 'other' }).certPath, 'rejected', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    ['wrong name', () => pki.client('wrong', { cn: 'mail.fabrikam.example' }).certPath, 'rejected', ''],
  ];
  for (const [name, make, verdict, reason] of certs) {
    test(name, async () => {
      const { code, doc } = await json(['--eml', eml, '--ip', '198.51.100.7', '--cert', make(), '--ca', pki.ca.certPath, '--directory', directory]);
      assert.equal(doc.recipients[0]!.verdict, verdict);
      assert.equal(code, verdict === 'relay' ? 0 : 1);
      if (reason) {
        const warnings = doc.warnings as Array<{ code: string; message: string }>;
        const ignored = warnings.find((w) => w.code === 'certificate-ignored');
        assert.ok(ignored, 'a warning says why the certificate was ignored');
        assert.match(ignored.message, new RegExp(reason));
      }
    });
  }

  test('without --cert the bounce comes from an unknown host and is refused', async () => {
    const { code, doc } = await json(['--eml', eml, '--ip', '198.51.100.7', '--directory', directory]);
    assert.equal(code, 1);
    assert.equal(doc.recipients[0]!.reply, '550 5.7.64 TenantAttribution; Relay Access Denied');
    assert.equal(doc.tenant, null);
  });
});

describe('check --tenant (audit)', () => {
  test('a tenant whose IP connector cannot carry bounces has findings (exit 1)', async () => {
    const r = await relaygate('check', '--tenant', 'contoso', '--directory', directory);
    assert.equal(r.code, 1);
    assert.match(r.out, /Connector onprem-ip \(OnPremises\): from 203\.0\.113\.0/);
    assert.match(r.out, /null-sender bounce to an outside recipient: now rejected, before 2023-11-01 relay/);
  });

  test('a certificate-only tenant whose name is accepted is clean (exit 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-'));
    const file = join(dir, 'tenants.yaml');
    writeFileSync(
      file,
      `tenants:
  - name: clean
    acceptedDomains:
      - { domain: clean.example }
      - { domain: mail.clean.example }
    inboundConnectors:
      - { name: cert, type: OnPremises, tlsSenderCertificateName: mail.clean.example }
`,
    );
    const r = await relaygate('check', '--tenant', 'clean', '--directory', file, '--json');
    assert.equal(r.code, 0, r.err);
    const audit = JSON.parse(r.out) as { connectors: Array<{ nullSender: { current: string } }> };
    assert.equal(audit.connectors[0]!.nullSender.current, 'relay');
  });

  test('an unknown tenant is not found (exit 1), as in every other command', async () => {
    const r = await relaygate('check', '--tenant', 'nobody', '--directory', directory);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'relaygate: no tenant named nobody\n');
    const trace = await relaygate('check', '--message-trace', join(root, 'examples/exchange-online/message-trace.csv'), '--tenant', 'nobody', '--directory', directory);
    assert.deepEqual([trace.code, trace.out], [1, '']);
    assert.match(trace.err, /^relaygate: no tenant named nobody in the directory \(tenants: [^)]+\)\n$/);
  });
});

describe('check: invalid input exits 2 with a message', () => {
  test('missing scenario file', async () => {
    const r = await relaygate('check', '/nonexistent/scenario.yaml');
    assert.deepEqual([r.code, r.out, r.err], [2, '', 'relaygate: scenario /nonexistent/scenario.yaml: not found\n']);
  });
  test('unknown key in a scenario names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-bad-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, `directory: ${directory}\nconnection: { ip: 203.0.113.1, tsl: true }\nrecipients: [a@b.example]\n`);
    const r = await relaygate('check', file);
    assert.deepEqual([r.code, r.err], [2, `relaygate: ${file}: connection.tsl: unknown key (did you mean tls?)\n`]);
    writeFileSync(file, `directory: ${directory}\nconnection: { ip: 203.0.113.1, certifcate: client.pem }\nrecipient: [a@b.example]\n`);
    const two = await relaygate('check', file);
    assert.deepEqual(
      [two.code, two.err],
      [2, `relaygate: ${file}: connection.certifcate: unknown key (did you mean certificate?); recipients: required; recipient: unknown key (did you mean recipients?)\n`],
    );
  });
  test('a YAML indentation error shows the offending line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-bad-')), 's.yaml');
    writeFileSync(file, `directory: ${directory}\nconnection:\n  ip: 203.0.113.1\n   tls: true\nrecipients: [a@b.example]\n`);
    const r = await relaygate('check', file);
    assert.deepEqual([r.code, r.err], [
        2,
        `relaygate: ${file}: not valid YAML (line 3, column 7): Nested mappings are not allowed in compact mappings\n` +
          '      2 | connection:\n    > 3 |   ip: 203.0.113.1\n      4 |    tls: true\n',
      ]);
  });
  test('files that cannot be read are invalid input, not a crash', async () => {
    const eml = await relaygate('check', '--eml', '/nonexistent/message.eml', '--ip', '203.0.113.1', '--directory', directory);
    assert.deepEqual([eml.code, eml.err], [2, 'relaygate: --eml /nonexistent/message.eml: not found\n']);
    const file = join(mkdtempSync(join(tmpdir(), 'rg-eml-')), 'm.eml');
    writeFileSync(file, 'From: app@contoso.example\r\nTo: someone@elsewhere.example\r\nSubject: x\r\n\r\nbody\r\n');
    const cert = await relaygate('check', '--eml', file, '--ip', '203.0.113.1', '--cert', '/nonexistent/chain.pem', '--directory', directory);
    assert.deepEqual([cert.code, cert.err], [2, 'relaygate: --cert /nonexistent/chain.pem: not found\n']);
  });
  test('--eml without --ip', async () => {
    const r = await relaygate('check', '--eml', 'x.eml', '--directory', directory);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'relaygate: --eml needs --ip (the source IP of the connection)\n');
  });
  test('a bad instant', async () => {
    const r = await relaygate('check', join(examples, '01-app-with-accepted-sender.yaml'), '--at', 'yesterday');
    assert.equal(r.code, 0, 'a scenario file carries its own instant; --at applies to --eml and --tenant');
    const e = await relaygate('check', '--tenant', 'contoso', '--directory', directory, '--at', 'yesterday');
    assert.equal(e.code, 2);
    assert.equal(e.err, 'relaygate: --at: not an ISO 8601 instant: yesterday\n');
  });
});

describe('check: a source address that is not one is invalid input (exit 2), naming the field', () => {
  for (const ip of ['999.1.1.1', '127.0.0.1/32', '203.0.113.25x']) {
    test(`scenario connection.ip ${ip}`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'rg-ip-')), 's.yaml');
      writeFileSync(file, `directory: ${directory}\nconnection: { ip: "${ip}" }\nrecipients: [someone@external.example]\n`);
      const r = await relaygate('check', file);
      assert.deepEqual([r.code, r.out, r.err], [2, '', `relaygate: ${file}: connection.ip: expected an IPv4 or IPv6 address (no /prefix), got "${ip}"\n`]);
    });
    test(`--eml with --ip ${ip}`, async () => {
      const eml = join(mkdtempSync(join(tmpdir(), 'rg-ip-')), 'm.eml');
      writeFileSync(eml, 'Return-Path: <app@contoso.com>\r\nFrom: app@contoso.com\r\nTo: someone@external.example\r\n\r\nbody\r\n');
      const r = await relaygate('check', '--eml', eml, '--ip', ip, '--directory', directory);
      assert.deepEqual([r.code, r.out, r.err], [2, '', `relaygate: --ip: expected an IPv4 or IPv6 address (no /prefix), got "${ip}"\n`]);
    });
  }
  test('IPv6 and IPv4-mapped IPv6 sources are addresses', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-ip-')), 's.yaml');
    writeFileSync(file, `directory: ${directory}\nconnection: { ip: "::ffff:203.0.113.25" }\nmailFrom: app@contoso.com\nrecipients: [someone@external.example]\n`);
    const r = await relaygate('check', file, '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { connector: string }).connector, 'onprem-ip');
  });
});

describe('check: what it assumed and which CAs it trusted', () => {
  test('--eml without Return-Path says that MAIL FROM <> was assumed', async () => {
    const eml = join(mkdtempSync(join(tmpdir(), 'rg-rp-')), 'm.eml');
    writeFileSync(eml, 'From: app@contoso.com\r\nTo: someone@external.example\r\nSubject: x\r\n\r\nbody\r\n');
    const note = 'The message has no Return-Path and --mail-from was not given: MAIL FROM <> (the null sender of a bounce) is assumed.';
    const human = await relaygate('check', '--eml', eml, '--ip', '203.0.113.25', '--directory', directory);
    assert.equal(human.code, 1);
    assert.equal(human.out.split('\n')[1], `Note: ${note}`);
    const { doc } = await json(['--eml', eml, '--ip', '203.0.113.25', '--directory', directory]);
    assert.deepEqual(doc.notes, [note]);
    const given = await json(['--eml', eml, '--ip', '203.0.113.25', '--directory', directory, '--mail-from', 'app@contoso.com']);
    assert.deepEqual([given.code, given.doc.notes], [0, []], 'nothing assumed when --mail-from is given');
  });

  describe('--config: the client certificate is judged against the relay\'s tls.clientCa', () => {
    let pki: TestPki;
    let dir: string;
    let eml: string;
    let cert: string;
    before(() => {
      pki = createTestPki();
      dir = mkdtempSync(join(tmpdir(), 'rg-ca-'));
      eml = join(dir, 'ndr.eml');
      writeFileSync(eml, 'Return-Path: <>\r\nFrom: postmaster@contoso.com\r\nTo: someone@external.example\r\nSubject: Undeliverable\r\n\r\nx\r\n');
      cert = pki.client('relay-client', { cn: 'email.contoso.com' }).certPath;
      writeFileSync(join(dir, 'with-ca.yaml'), `hostname: relay.test\ndataDir: ./data\ntls: { clientCa: ${pki.ca.certPath} }\n`);
      writeFileSync(join(dir, 'without-ca.yaml'), 'hostname: relay.test\ndataDir: ./data\n');
    });
    after(() => pki.cleanup());

    test('with tls.clientCa: trusted, relayed, and the output names the CA file and the configuration', async () => {
      const config = join(dir, 'with-ca.yaml');
      const r = await relaygate('check', '--eml', eml, '--ip', '198.51.100.7', '--cert', cert, '--config', config, '--directory', directory);
      assert.equal(r.code, 0, r.out + r.err);
      const lines = r.out.split('\n');
      assert.match(lines[0]!, /^Connection 198\.51\.100\.7, TLS, certificate email\.contoso\.com; MAIL FROM <> at /);
      assert.equal(lines[1], `Client certificate judged against tls.clientCa ${pki.ca.certPath} of ${config}, as the relay does`);
      const scenario = join(dir, 'scenario.yaml');
      writeFileSync(scenario, `directory: ${directory}\nconnection: { ip: 198.51.100.7, certificate: ${cert} }\nmailFrom: ""\nrecipients: [someone@external.example]\n`);
      const s = await relaygate('check', scenario, '--config', config, '--json');
      assert.equal(s.code, 0, s.err);
      const doc = JSON.parse(s.out) as { recipients: Array<{ verdict: string }>; trustStore: string };
      assert.deepEqual([doc.recipients[0]!.verdict, doc.trustStore], ['relay', `tls.clientCa ${pki.ca.certPath} of ${config}, as the relay does`]);
    });

    test('without tls.clientCa: Node\'s roots, as the relay, and it says so', async () => {
      const config = join(dir, 'without-ca.yaml');
      const r = await relaygate('check', '--eml', eml, '--ip', '198.51.100.7', '--cert', cert, '--config', config, '--directory', directory);
      assert.equal(r.code, 1);
      assert.equal(r.out.split('\n')[1], `Client certificate judged against Node's root certificates: ${config} sets no tls.clientCa, and the relay then trusts these`);
    });

    test('with the demo settings and no demo client CA made yet: Node\'s roots, and it says which file the demo will trust', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'rg-democa-'));
      const r = await runCliCaptured(['check', '--eml', eml, '--ip', '198.51.100.7', '--cert', cert, '--directory', directory], { env: {}, cwd });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const demoCa = join(cwd, 'data', 'tls', 'demo-client-ca.pem');
      assert.equal(
        r.stdout.split('\n')[1],
        `Client certificate judged against Node's root certificates: the built-in demo settings set no tls.clientCa and the demo's client CA ${demoCa} is not made yet (the first \`npm start\` makes it, and the demo relay trusts it from then on)`,
      );
    });

    test('--ca wins over the configuration; a clientCa that cannot be read is named with its key', async () => {
      const config = join(dir, 'with-ca.yaml');
      const r = await relaygate('check', '--eml', eml, '--ip', '198.51.100.7', '--cert', cert, '--config', config, '--ca', pki.otherCa.certPath, '--directory', directory);
      assert.equal(r.code, 1);
      assert.equal(r.out.split('\n')[1], `Client certificate judged against --ca ${pki.otherCa.certPath}`);
      writeFileSync(join(dir, 'bad-ca.yaml'), 'hostname: relay.test\ndataDir: ./data\ntls: { clientCa: missing-ca.pem }\n');
      const bad = await relaygate('check', '--eml', eml, '--ip', '198.51.100.7', '--cert', cert, '--config', join(dir, 'bad-ca.yaml'), '--directory', directory);
      assert.deepEqual([bad.code, bad.out, bad.err], [2, '', `relaygate: tls.clientCa ${join(dir, 'missing-ca.pem')}: not found\n`]);
    });
  });
});

describe('check --tenant: the common certificate setup and what the audit shows', () => {
  const COMMON = `tenants:
  - name: contoso
    acceptedDomains:
      - { domain: contoso.com }
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [203.0.113.0/24, 198.51.100.0/24, "2001:db8::/48"] }
      - { name: onprem, type: OnPremises, tlsSenderCertificateName: mail.contoso.com, requireTls: true }
`;
  const reply = '550 5.7.64 TenantAttribution; Relay Access Denied';
  let file: string;
  before(() => {
    file = join(mkdtempSync(join(tmpdir(), 'rg-common-')), 'tenants.yaml');
    writeFileSync(file, COMMON);
  });

  test('every range of a connector is shown; the probe address of a certificate probe never is', async () => {
    const r = await relaygate('check', '--tenant', 'contoso', '--directory', file);
    assert.equal(r.code, 1);
    assert.ok(r.out.includes('\nConnector apps (OnPremises): from 203.0.113.0/24, 198.51.100.0/24, 2001:db8::/48 (probed from 203.0.113.0)\n'), r.out);
    assert.ok(r.out.includes('\nConnector onprem (OnPremises): TLS with a trusted certificate named mail.contoso.com\n'), r.out);
    assert.ok(!r.out.includes('0.0.0.0'), r.out);
    const j = await relaygate('check', '--tenant', 'contoso', '--directory', file, '--json');
    assert.ok(!j.out.includes('0.0.0.0'), j.out);
  });

  test('the result lists what to act on, and the remedies are numbered without gaps', async () => {
    const r = await relaygate('check', '--tenant', 'contoso', '--directory', file);
    const remedies = r.out.slice(r.out.indexOf('\nRemedies (in order of preference):\n'), r.out.indexOf('\nResult:'));
    assert.deepEqual(remedies.split('\n').filter((l) => /^ {2}\d+\. /.test(l)).map((l) => l.trim().split('.')[0]), ['1', '2', '3']);
    assert.ok(
      remedies.includes('The name must itself be an accepted domain: a certificate for mail.contoso.com needs mail.contoso.com added as an accepted domain of contoso, one for contoso.com works as it is.'),
      remedies,
    );
    assert.ok(!/remed(y|ies) \d/.test(r.out), 'no text refers to a remedy by a number the list may not show');
    assert.equal(
      r.out.slice(r.out.indexOf('\nResult:') + 1),
      'Result: 4 findings to act on:\n' +
        `  - connector apps: refused now when sent to outside recipients (${reply}): null-sender bounces; mail whose envelope sender is not in contoso's accepted domains.\n` +
        '  - connector apps: [exo-refuses-ipv6] 2001:db8::/48: Exchange Online accepts only IPv4 entries in SenderIPAddresses; relaygate accepts it.\n' +
        `  - connector onprem: refused now when sent to outside recipients (${reply}): null-sender bounces; mail whose envelope sender is not in contoso's accepted domains.\n` +
        '  - connector onprem: [certificate-name-not-accepted] Certificate name mail.contoso.com is not an accepted domain of contoso: mail on this connector relays only when the envelope sender domain is accepted (add mail.contoso.com as an accepted domain).\n',
    );
  });

  test('a tenant compliant but for one connector\'s null senders names that connector alone', async () => {
    const only = join(mkdtempSync(join(tmpdir(), 'rg-one-')), 'tenants.yaml');
    writeFileSync(
      only,
      `tenants:
  - name: contoso
    acceptedDomains: [{ domain: contoso.com }, { domain: mail.contoso.com }]
    inboundConnectors:
      - { name: apps, type: OnPremises, senderIPAddresses: [203.0.113.10] }
      - { name: onprem, type: OnPremises, tlsSenderCertificateName: mail.contoso.com }
`,
    );
    const r = await relaygate('check', '--tenant', 'contoso', '--directory', only);
    assert.equal(r.code, 1);
    assert.match(r.out, /\n {2}null-sender bounce to an outside recipient: now relay, before 2023-11-01 relay\n/, 'the certificate connector passes bounces');
    assert.equal(
      r.out.slice(r.out.indexOf('\nResult:') + 1),
      `Result: 1 finding to act on:\n  - connector apps: refused now when sent to outside recipients (${reply}): null-sender bounces; mail whose envelope sender is not in contoso's accepted domains.\n`,
    );
  });
});
