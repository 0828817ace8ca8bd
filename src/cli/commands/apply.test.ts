import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));
const DEMO_TEXT = readFileSync(DEMO, 'utf8');

/**
 * The demo's IP connector carries what the rule change refuses: it cannot relay a bounce (its
 * certificate connector can: mail.demo.example is accepted). apply says so before the first refusal,
 * with the audit's other findings of what it added.
 */
const demoWarnings = (auditArgs: string): string =>
  "relaygate: warning: tenant demo, connector loopback: refused now when sent to outside recipients (550 5.7.64 TenantAttribution; Relay Access Denied): null-sender bounces; mail whose envelope sender is not in demo's accepted domains.\n" +
  'relaygate: warning: tenant demo, connector loopback: [exo-refuses-ipv6] ::1/128: Exchange Online accepts only IPv4 entries in SenderIPAddresses; relaygate accepts it.\n' +
  `  The audit with its remedies: relaygate check --tenant demo ${auditArgs}\n` +
  'relaygate: warning: tenant fabrikam: [no-onpremises-connector] fabrikam has no enabled OnPremises connector: the rule change does not affect it, and it cannot relay.\n' +
  `  The audit with its remedies: relaygate check --tenant fabrikam ${auditArgs}\n`;

const DEMO_ADDED = [
  '+ tenant demo',
  '+ accepted domain demo/demo.example',
  '+ accepted domain demo/apps.demo.example',
  '+ accepted domain demo/mail.demo.example',
  '+ connector demo/loopback',
  '+ connector demo/certificate',
  '+ tenant fabrikam',
  '+ accepted domain fabrikam/fabrikam.example',
  '+ connector fabrikam/partner',
];

test('apply --dry-run prints the changes and writes nothing; apply writes; a second apply has no changes', async () => {
  const s = cliSandbox();
  try {
    const dry = await s.run('apply', '-f', DEMO, '--dry-run');
    assert.deepEqual([dry.code, dry.stderr], [0, demoWarnings(`--directory ${DEMO}`)]);
    assert.equal(dry.stdout, [...DEMO_ADDED, 'dry run: 9 changes, nothing written', ''].join('\n'));
    assert.equal((await s.run('export')).stdout, 'tenants: []\n');

    const first = await s.run('apply', '-f', DEMO);
    assert.deepEqual([first.code, first.stdout, first.stderr], [0, [...DEMO_ADDED, '9 changes applied', ''].join('\n'), demoWarnings(`--config ${s.config}`)]);
    const second = await s.run('apply', '-f', DEMO);
    assert.deepEqual([second.code, second.stdout, second.stderr], [0, 'no changes\n', ''], 'nothing changed, nothing to warn about');
    assert.ok(existsSync(join(s.dir, 'data', 'relaygate.db')));
  } finally {
    s.cleanup();
  }
});

test('export → apply → export is byte-identical, to stdout and with -o', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const exported = await s.run('export');
    assert.deepEqual([exported.code, exported.stdout], [0, DEMO_TEXT]);
    const out = join(s.dir, 'exported.yaml');
    assert.equal((await s.run('export', '-o', out)).code, 0);
    assert.equal(readFileSync(out, 'utf8'), DEMO_TEXT);
    assert.equal((await s.run('apply', '-f', out)).stdout, 'no changes\n');
    assert.equal((await s.run('export')).stdout, DEMO_TEXT);
  } finally {
    s.cleanup();
  }
});

test('apply --json prints the change list with field detail and the revision', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const edited = join(s.dir, 'edited.yaml');
    writeFileSync(edited, DEMO_TEXT.replace('rejectDirectSend: true', 'rejectDirectSend: false'));
    const r = await s.run('apply', '-f', edited, '--json');
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), {
      dryRun: false,
      changes: [{ action: 'change', entity: 'tenant', tenant: 'fabrikam', name: 'fabrikam', fields: [{ field: 'rejectDirectSend', before: true, after: false }] }],
      revision: 2,
    });
  } finally {
    s.cleanup();
  }
});

test('an invalid file prints every problem, exits 2 and changes nothing', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const bad = join(s.dir, 'bad.yaml');
    writeFileSync(
      bad,
      DEMO_TEXT.replace('type: Authoritative, matchSubDomains: false }\n      - { domain: apps', 'type: ExternalRelay, matchSubDomains: false }\n      - { domain: apps')
        .replace('tlsSenderCertificateName: mail.demo.example', 'tlsSenderCertificateName: mail.*.demo.example')
        .replace('198.51.100.0/24', '198.51.100.0/33'),
    );
    const r = await s.run('apply', '-f', bad);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `relaygate: ${bad}: invalid directory (3 problems):\n` +
        '  tenant demo, accepted domain demo.example: type: ExternalRelay exists only in on-premises Exchange; use Authoritative or InternalRelay\n' +
        '  tenant demo, connector certificate: tlsSenderCertificateName: "mail.*.demo.example" has an embedded wildcard; only a leading "*.parent" is allowed\n' +
        '  tenant fabrikam, connector partner: senderIPAddresses[0]: "198.51.100.0/33" is not an IP address or CIDR range\n',
    );
    assert.equal((await s.run('export')).stdout, DEMO_TEXT);
  } finally {
    s.cleanup();
  }
});

test('usage errors, a missing file and a bad configuration exit 2 with a message', async () => {
  const s = cliSandbox();
  try {
    const noFile = await s.run('apply');
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /required option '-f, --file <file>' not specified/);
    const missing = await s.run('apply', '-f', join(s.dir, 'nope.yaml'));
    assert.deepEqual([missing.code, missing.stderr], [2, `relaygate: -f ${join(s.dir, 'nope.yaml')}: not found\n`]);
    writeFileSync(join(s.dir, 'broken.yaml'), 'listeners: [{ name: smtp, address: "127.0.0.1:25", tls: tls }]\n');
    const badConfig = await s.runRaw(['export', '--config', join(s.dir, 'broken.yaml')]);
    assert.equal(badConfig.code, 2);
    assert.equal(
      badConfig.stderr,
      `relaygate: ${join(s.dir, 'broken.yaml')}: invalid configuration\n  listeners[0].tls: expected one of starttls|implicit|none, got "tls"\n`,
    );
  } finally {
    s.cleanup();
  }
});

test('migrate creates the database and lists the applied migrations; without --config it uses ./relaygate.yaml', async () => {
  const s = cliSandbox();
  try {
    const r = await s.runRaw(['migrate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { database: string; migrations: { version: number; name: string }[] };
    assert.equal(out.database, join(s.dir, 'data', 'relaygate.db'));
    assert.deepEqual(out.migrations.slice(0, 1).map((m) => [m.version, m.name]), [[1, 'directory']]);
    const human = await s.run('migrate');
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(`^${join(s.dir, 'data', 'relaygate.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: schema version \\d+\\n  001 directory \\(applied `));
  } finally {
    s.cleanup();
  }
});

test('apply warns before the first refusal: a certificate named mail.contoso.com when only contoso.com is accepted', async () => {
  const s = cliSandbox();
  try {
    const file = join(s.dir, 'tenants.yaml');
    const common = `tenants:
  - name: contoso
    acceptedDomains:
      - { domain: contoso.com }
    inboundConnectors:
      - { name: onprem, type: OnPremises, tlsSenderCertificateName: mail.contoso.com, requireTls: true }
`;
    writeFileSync(file, common);
    const r = await s.run('apply', '-f', file);
    assert.deepEqual([r.code, r.stdout], [0, '+ tenant contoso\n+ accepted domain contoso/contoso.com\n+ connector contoso/onprem\n3 changes applied\n'], 'a warning, not an error');
    assert.equal(
      r.stderr,
      "relaygate: warning: tenant contoso, connector onprem: refused now when sent to outside recipients (550 5.7.64 TenantAttribution; Relay Access Denied): null-sender bounces; mail whose envelope sender is not in contoso's accepted domains.\n" +
        '  Certificate name mail.contoso.com is not an accepted domain of contoso: mail on this connector relays only when the envelope sender domain is accepted (add mail.contoso.com as an accepted domain).\n' +
        `  The audit with its remedies: relaygate check --tenant contoso --config ${s.config}\n`,
    );
    // The fix the warning names: the certificate name becomes an accepted domain; nothing left to warn about.
    writeFileSync(file, common.replace('      - { domain: contoso.com }\n', '      - { domain: contoso.com }\n      - { domain: mail.contoso.com }\n'));
    const fixed = await s.run('apply', '-f', file);
    assert.deepEqual([fixed.code, fixed.stdout, fixed.stderr], [0, '+ accepted domain contoso/mail.contoso.com\n1 change applied\n', '']);
    const audit = await s.run('check', '--tenant', 'contoso');
    assert.deepEqual([audit.code, audit.stdout.slice(audit.stdout.indexOf('Result:'))], [0, 'Result: clean.\n']);
  } finally {
    s.cleanup();
  }
});

test('a tenants.yaml with an indentation error shows the offending line and changes nothing', async () => {
  const s = cliSandbox();
  try {
    const file = join(s.dir, 'tenants.yaml');
    writeFileSync(file, 'tenants:\n  - name: contoso\n    acceptedDomains: []\n     inboundConnectors: []\n');
    const r = await s.run('apply', '-f', file);
    assert.deepEqual([r.code, r.stdout], [2, '']);
    assert.equal(
      r.stderr,
      `relaygate: ${file}: invalid directory (1 problem):\n  not valid YAML (line 4, column 1): All mapping items must start at the same column\n      3 |     acceptedDomains: []\n    > 4 |      inboundConnectors: []\n`,
    );
    assert.equal((await s.run('export')).stdout, 'tenants: []\n');
  } finally {
    s.cleanup();
  }
});

test('a range written with host bits set is stored as its network, with a warning naming the field', async () => {
  const s = cliSandbox();
  try {
    const file = join(s.dir, 'tenants.yaml');
    writeFileSync(
      file,
      'tenants:\n  - name: hb\n    acceptedDomains: [{ domain: hb.example }, { domain: mail.hb.example }]\n    inboundConnectors:\n' +
        '      - { name: apps, type: OnPremises, tlsSenderCertificateName: mail.hb.example, senderIPAddresses: [198.51.100.7/24, 203.0.113.0/24, "2001:db8::1/64", 192.0.2.9] }\n',
    );
    const r = await s.run('apply', '-f', file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `relaygate: warning: ${file}: tenant hb, connector apps: senderIPAddresses[0]: 198.51.100.7/24 has host bits set: it matches 198.51.100.0/24, and is stored so\n` +
        `relaygate: warning: ${file}: tenant hb, connector apps: senderIPAddresses[2]: 2001:db8::1/64 has host bits set: it matches 2001:db8::/64, and is stored so\n` +
        'relaygate: warning: tenant hb, connector apps: [exo-refuses-ipv6] 2001:db8::/64: Exchange Online accepts only IPv4 entries in SenderIPAddresses; relaygate accepts it.\n' +
        `  The audit with its remedies: relaygate check --tenant hb --config ${s.config}\n`,
    );
    assert.match((await s.run('export')).stdout, /senderIPAddresses: \[ 198\.51\.100\.0\/24, 203\.0\.113\.0\/24, "2001:db8::\/64", 192\.0\.2\.9\/32 \]/);
    const again = await s.run('connector', 'set', 'hb', 'apps', '--ip', '10.1.2.3/8', '--ip', '10.0.0.0/8');
    assert.deepEqual(
      [again.code, again.stderr],
      [
        0,
        'relaygate: warning: --ip 10.1.2.3/8 has host bits set: it matches 10.0.0.0/8, and is stored so\n' +
          'relaygate: warning: tenant hb, connector apps: [exo-refuses-range] 10.0.0.0/8: Exchange Online accepts only single IPv4 addresses and /24 to /32 ranges; relaygate accepts it.\n' +
          'relaygate: warning: tenant hb, connector apps: [ip-range-wide] 10.0.0.0/8 is wider than /24: every host in it can relay as hb.\n' +
          `  The audit with its remedies: relaygate check --tenant hb --config ${s.config}\n`,
      ],
    );
  } finally {
    s.cleanup();
  }
});
