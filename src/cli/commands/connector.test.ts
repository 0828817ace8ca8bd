import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

test('connector list, show, add and remove', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.equal(
      (await s.run('connector', 'list')).stdout,
      'TENANT    NAME         TYPE        ENABLED  SENDER IPS            CERTIFICATE NAME\n' +
        'demo      loopback     OnPremises  true     127.0.0.1/32,::1/128  -\n' +
        'demo      certificate  OnPremises  true     -                     mail.demo.example\n' +
        'fabrikam  partner      Partner     true     198.51.100.0/24       -\n',
    );
    const added = await s.run(
      'connector', 'add', 'demo', 'printers', '--type', 'OnPremises',
      '--ip', '192.0.2.10', '--ip', '::ffff:192.0.2.0/120', '--cert-name', '*.Printers.Demo.Example', '--require-tls', '--comment', 'office printers',
    );
    assert.deepEqual([added.code, added.stdout], [0, '+ connector demo/printers\n1 change applied\n']);
    assert.equal(
      added.stderr,
      "relaygate: warning: tenant demo, connector printers: refused now when sent to outside recipients (550 5.7.64 TenantAttribution; Relay Access Denied): null-sender bounces; mail whose envelope sender is not in demo's accepted domains.\n" +
        '  Certificate name printers.demo.example is not an accepted domain of demo: mail on this connector relays only when the envelope sender domain is accepted (add printers.demo.example as an accepted domain).\n' +
        'relaygate: warning: tenant demo, connector printers: [wildcard-certificate-name] TlsSenderCertificateName *.printers.demo.example is allowed but not recommended: any certificate under printers.demo.example is attributed to demo.\n' +
        `  The audit with its remedies: relaygate check --tenant demo --config ${s.config}\n`,
      'the added connector alone: the warning of the demo\'s IP connector is not repeated',
    );
    assert.deepEqual(JSON.parse((await s.run('connector', 'show', 'demo', 'PRINTERS', '--json')).stdout), {
      tenant: 'demo',
      name: 'printers',
      type: 'OnPremises',
      enabled: true,
      senderIPAddresses: ['192.0.2.10/32', '192.0.2.0/24'],
      tlsSenderCertificateName: '*.printers.demo.example',
      requireTls: true,
      restrictDomainsToIPAddresses: false,
      restrictDomainsToCertificate: false,
      senderDomains: ['*'],
      treatMessagesAsInternal: false,
      cloudServicesMailEnabled: false,
      allowBareLineEndings: 'reject',
      comment: 'office printers',
    });
    const human = await s.run('connector', 'show', 'demo', 'printers');
    assert.match(human.stdout, /^tenant: demo\nname: printers\ntype: OnPremises\nenabled: true\n/);
    const partner = await s.run('connector', 'add', 'fabrikam', 'contoso', '--type', 'Partner', '--sender-domain', 'contoso.com', '--sender-domain', '*.contoso.net', '--restrict-to-certificate', '--json');
    assert.equal(partner.code, 0);
    assert.deepEqual(JSON.parse(partner.stdout), {
      dryRun: false,
      changes: [{ action: 'add', entity: 'connector', tenant: 'fabrikam', name: 'contoso', fields: [] }],
    });
    const listed = JSON.parse((await s.run('connector', 'list', '--tenant', 'fabrikam', '--json')).stdout) as { name: string; senderDomains: string[] }[];
    assert.deepEqual(listed.map((c) => [c.name, c.senderDomains]), [['partner', ['partner.example']], ['contoso', ['contoso.com', '*.contoso.net']]]);
    assert.deepEqual(await s.run('connector', 'remove', 'demo', 'printers'), { code: 0, stdout: '- connector demo/printers\n1 change applied\n', stderr: '' });
  } finally {
    s.cleanup();
  }
});

test('connector validation prints every problem, exits 2 and changes nothing', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const before = (await s.run('export')).stdout;
    assert.deepEqual(
      await s.run('connector', 'add', 'demo', 'app', '--type', 'OnPremises', '--ip', '10.0.0.300', '--cert-name', 'mail.*.demo.example', '--treat-as-internal', '--cloud-services-mail'),
      {
        code: 2,
        stdout: '',
        stderr:
          'relaygate: invalid directory (3 problems):\n' +
          '  tenant demo, connector app: senderIPAddresses[0]: "10.0.0.300" is not an IP address or CIDR range\n' +
          '  tenant demo, connector app: tlsSenderCertificateName: "mail.*.demo.example" has an embedded wildcard; only a leading "*.parent" is allowed\n' +
          '  tenant demo, connector app: treatMessagesAsInternal: cannot be combined with cloudServicesMailEnabled\n',
      },
    );
    assert.deepEqual(await s.run('connector', 'add', 'demo', 'bare', '--type', 'OnPremises'), {
      code: 2,
      stdout: '',
      stderr:
        'relaygate: invalid directory (1 problem):\n  tenant demo, connector bare: senderIPAddresses: an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName\n',
    });
    assert.deepEqual(await s.run('connector', 'add', 'demo', 'Loopback', '--type', 'Partner'), {
      code: 2,
      stdout: '',
      stderr: 'relaygate: tenant demo already has a connector Loopback\n',
    });
    const noType = await s.run('connector', 'add', 'demo', 'x');
    assert.equal(noType.code, 2);
    assert.match(noType.stderr, /required option '--type <type>' not specified/);
    assert.deepEqual(await s.run('connector', 'show', 'demo', 'nope'), { code: 1, stdout: '', stderr: 'relaygate: tenant demo has no connector nope\n' });
    assert.deepEqual(await s.run('connector', 'remove', 'nobody', 'x'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    assert.equal((await s.run('export')).stdout, before);
  } finally {
    s.cleanup();
  }
});

test('connector set changes only the given settings; lists replace; invalid results change nothing', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('connector', 'set', 'demo', 'loopback', '--enabled', 'false', '--ip', '10.0.0.1', '--ip', '10.0.0.0/8'), {
      code: 0,
      stdout: '~ connector demo/loopback: enabled true → false, senderIPAddresses ["127.0.0.1/32","::1/128"] → ["10.0.0.1/32","10.0.0.0/8"]\n1 change applied\n',
      stderr:
        'relaygate: warning: tenant demo, connector loopback: [exo-refuses-range] 10.0.0.0/8: Exchange Online accepts only single IPv4 addresses and /24 to /32 ranges; relaygate accepts it.\n' +
        'relaygate: warning: tenant demo, connector loopback: [ip-range-wide] 10.0.0.0/8 is wider than /24: every host in it can relay as demo.\n' +
        `  The audit with its remedies: relaygate check --tenant demo --config ${s.config}\n`,
    });
    assert.deepEqual(await s.run('connector', 'set', 'demo', 'certificate', '--cert-name', 'none'), {
      code: 2,
      stdout: '',
      stderr:
        'relaygate: invalid directory (1 problem):\n  tenant demo, connector certificate: senderIPAddresses: an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName\n',
    });
    assert.deepEqual(await s.run('connector', 'set', 'demo', 'loopback'), {
      code: 2,
      stdout: '',
      stderr: 'relaygate: nothing to change: give at least one setting (see --help)\n',
    });
    const bad = await s.run('connector', 'set', 'demo', 'loopback', '--require-tls', 'maybe');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /option '--require-tls <bool>' argument 'maybe' is invalid\. expected true or false/);
    assert.deepEqual(await s.run('connector', 'set', 'demo', 'nope', '--enabled', 'true'), { code: 1, stdout: '', stderr: 'relaygate: tenant demo has no connector nope\n' });
    const c = JSON.parse((await s.run('connector', 'show', 'demo', 'certificate', '--json')).stdout) as { tlsSenderCertificateName: string };
    assert.equal(c.tlsSenderCertificateName, 'mail.demo.example');
  } finally {
    s.cleanup();
  }
});

test('connector set prints the audit findings the change brought, and still makes it', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    const r = await s.run('connector', 'set', 'demo', 'certificate', '--cert-name', 'relay.demo.example');
    assert.deepEqual([r.code, r.stdout], [0, '~ connector demo/certificate: tlsSenderCertificateName mail.demo.example → relay.demo.example\n1 change applied\n']);
    assert.equal(
      r.stderr,
      "relaygate: warning: tenant demo, connector certificate: refused now when sent to outside recipients (550 5.7.64 TenantAttribution; Relay Access Denied): null-sender bounces; mail whose envelope sender is not in demo's accepted domains.\n" +
        '  Certificate name relay.demo.example is not an accepted domain of demo: mail on this connector relays only when the envelope sender domain is accepted (add relay.demo.example as an accepted domain).\n' +
        `  The audit with its remedies: relaygate check --tenant demo --config ${s.config}\n`,
    );
    assert.match((await s.run('connector', 'show', 'demo', 'certificate')).stdout, /tlsSenderCertificateName: relay\.demo\.example\n/);
    const back = await s.run('connector', 'set', 'demo', 'certificate', '--cert-name', 'mail.demo.example');
    assert.deepEqual([back.code, back.stderr], [0, ''], 'the fix brings no finding');
  } finally {
    s.cleanup();
  }
});
