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
      assert.deepEqual(Object.keys(doc), ['tenant', 'connector', 'attribution', 'ruleSet', 'recipients', 'steps', 'warnings', 'remedies']);
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
    assert.equal(r.code, 2);
    assert.match(r.err, /^relaygate: \/nonexistent\/scenario\.yaml: ENOENT/);
  });
  test('unknown key in a scenario names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-bad-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, `directory: ${directory}\nconnection: { ip: 203.0.113.1, tsl: true }\nrecipients: [a@b.example]\n`);
    const r = await relaygate('check', file);
    assert.equal(r.code, 2);
    assert.match(r.err, /connection: Unrecognized key: "tsl"/);
  });
  test('files that cannot be read are invalid input, not a crash', async () => {
    const eml = await relaygate('check', '--eml', '/nonexistent/message.eml', '--ip', '203.0.113.1', '--directory', directory);
    assert.deepEqual([eml.code, eml.err], [2, "relaygate: ENOENT: no such file or directory, open '/nonexistent/message.eml'\n"]);
    const file = join(mkdtempSync(join(tmpdir(), 'rg-eml-')), 'm.eml');
    writeFileSync(file, 'From: app@contoso.example\r\nTo: someone@elsewhere.example\r\nSubject: x\r\n\r\nbody\r\n');
    const cert = await relaygate('check', '--eml', file, '--ip', '203.0.113.1', '--cert', '/nonexistent/chain.pem', '--directory', directory);
    assert.deepEqual([cert.code, cert.err], [2, "relaygate: ENOENT: no such file or directory, open '/nonexistent/chain.pem'\n"]);
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
