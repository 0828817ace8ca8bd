import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectoryValidationError, validateDirectory } from './validate.js';
import { connectorDefaults } from './model.js';

function problems(input: unknown): string[] {
  try {
    validateDirectory(input);
  } catch (err) {
    assert.ok(err instanceof DirectoryValidationError, String(err));
    return err.lines;
  }
  assert.fail('expected a DirectoryValidationError');
}

const onprem = { name: 'onprem', type: 'OnPremises', senderIPAddresses: ['203.0.113.10'] };

function tenant(extra: Record<string, unknown>): Record<string, unknown> {
  return { name: 'contoso', acceptedDomains: [{ domain: 'contoso.com' }], inboundConnectors: [onprem], ...extra };
}

test('defaults are filled and values canonicalised', () => {
  const dir = validateDirectory({
    tenants: [
      {
        name: 'contoso',
        acceptedDomains: [{ domain: 'Contoso.COM.' }, { domain: 'bücher.example', type: 'InternalRelay', matchSubDomains: true }],
        inboundConnectors: [
          {
            name: 'onprem',
            type: 'OnPremises',
            senderIPAddresses: ['203.0.113.10', '2001:db8::/48', '::ffff:198.51.100.7', '::FFFF:198.51.100.0/120', '203.0.113.77/24', '2001:DB8:0:0::1'],
            tlsSenderCertificateName: 'Mail.Contoso.COM',
          },
          { name: 'partner', type: 'Partner', senderDomains: ['*.Partner.Example', 'other.example.', '*'], tlsSenderCertificateName: '*.Partner.Example' },
        ],
      },
    ],
  });
  const t = dir.tenants[0]!;
  assert.equal(t.relayRuleSet, 'auto');
  assert.equal(t.rejectDirectSend, false);
  assert.deepEqual(t.acceptedDomains, [
    { domain: 'contoso.com', type: 'Authoritative', matchSubDomains: false },
    { domain: 'xn--bcher-kva.example', type: 'InternalRelay', matchSubDomains: true },
  ]);
  assert.deepEqual(t.inboundConnectors[0], {
    ...connectorDefaults,
    name: 'onprem',
    type: 'OnPremises',
    senderIPAddresses: ['203.0.113.10/32', '2001:db8::/48', '198.51.100.7/32', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::1/128'],
    tlsSenderCertificateName: 'mail.contoso.com',
  });
  assert.deepEqual(t.inboundConnectors[1]!.senderDomains, ['*.partner.example', 'other.example', '*']);
  assert.equal(t.inboundConnectors[1]!.tlsSenderCertificateName, '*.partner.example');
  assert.deepEqual(validateDirectory(undefined), { tenants: [] });
});

test('ExternalRelay is refused with a clear message', () => {
  assert.deepEqual(problems({ tenants: [tenant({ acceptedDomains: [{ domain: 'contoso.com', type: 'ExternalRelay' }] })] }), [
    'tenant contoso, accepted domain contoso.com: type: ExternalRelay exists only in on-premises Exchange; use Authoritative or InternalRelay',
  ]);
});

test('matchSubDomains is allowed only on InternalRelay', () => {
  assert.deepEqual(problems({ tenants: [tenant({ acceptedDomains: [{ domain: 'contoso.com', matchSubDomains: true }] })] }), [
    'tenant contoso, accepted domain contoso.com: matchSubDomains: allowed only on InternalRelay domains, not on Authoritative',
  ]);
});

test('a domain owned by two tenants, or twice by one, is refused', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({}),
        { name: 'fabrikam', acceptedDomains: [{ domain: 'fabrikam.com' }, { domain: 'CONTOSO.com.' }, { domain: 'fabrikam.com' }] },
      ],
    }),
    [
      'tenant fabrikam, accepted domain CONTOSO.com.: domain: contoso.com is already an accepted domain of tenant contoso',
      'tenant fabrikam, accepted domain fabrikam.com: domain: fabrikam.com is listed twice in this tenant',
    ],
  );
});

test('an embedded wildcard in a certificate name is refused; a leading *.parent is fine', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({
          inboundConnectors: [
            { ...onprem, tlsSenderCertificateName: 'mail.*.contoso.com' },
            { name: 'b', type: 'OnPremises', tlsSenderCertificateName: '*mail.contoso.com' },
            { name: 'c', type: 'OnPremises', tlsSenderCertificateName: 'not a host' },
          ],
        }),
      ],
    }),
    [
      'tenant contoso, connector onprem: tlsSenderCertificateName: "mail.*.contoso.com" has an embedded wildcard; only a leading "*.parent" is allowed',
      'tenant contoso, connector b: tlsSenderCertificateName: "*mail.contoso.com" has an embedded wildcard; only a leading "*.parent" is allowed',
      'tenant contoso, connector c: tlsSenderCertificateName: "not a host" is not a host name',
    ],
  );
});

test('malformed IP addresses and CIDR ranges are refused, each by position', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({
          inboundConnectors: [
            { ...onprem, senderIPAddresses: ['203.0.113.0/24', '300.1.1.1', '10.0.0.0/33', '2001:db8::/129', 'fe80::1%eth0', '10.1', 'example.com', '1.2.3.4/'] },
          ],
        }),
      ],
    }),
    [
      'tenant contoso, connector onprem: senderIPAddresses[1]: "300.1.1.1" is not an IP address or CIDR range',
      'tenant contoso, connector onprem: senderIPAddresses[2]: "10.0.0.0/33" is not an IP address or CIDR range',
      'tenant contoso, connector onprem: senderIPAddresses[3]: "2001:db8::/129" is not an IP address or CIDR range',
      'tenant contoso, connector onprem: senderIPAddresses[4]: "fe80::1%eth0" is not an IP address or CIDR range',
      'tenant contoso, connector onprem: senderIPAddresses[5]: "10.1" is not an IP address or CIDR range',
      'tenant contoso, connector onprem: senderIPAddresses[6]: "example.com" is not an IP address or CIDR range',
      'tenant contoso, connector onprem: senderIPAddresses[7]: "1.2.3.4/" is not an IP address or CIDR range',
    ],
  );
});

test('an OnPremises connector needs IPs or a certificate name; a Partner connector does not', () => {
  assert.deepEqual(problems({ tenants: [tenant({ inboundConnectors: [{ name: 'empty', type: 'OnPremises' }, { name: 'p', type: 'Partner' }] })] }), [
    'tenant contoso, connector empty: senderIPAddresses: an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName',
  ]);
});

test('rules between fields hold even when a neighbouring field is malformed', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({
          acceptedDomains: [{ domain: 'bad..example', matchSubDomains: true }],
          inboundConnectors: [
            { name: 'x', type: 'OnPremises', senderIPAddresses: ['nope'], treatMessagesAsInternal: true, cloudServicesMailEnabled: true },
            { name: 'y', type: 'OnPremises', requireTls: 'yes' },
          ],
        }),
      ],
    }),
    [
      'tenant contoso, accepted domain bad..example: domain: "bad..example" is not a valid domain name',
      'tenant contoso, accepted domain bad..example: matchSubDomains: allowed only on InternalRelay domains, not on Authoritative',
      'tenant contoso, connector x: senderIPAddresses[0]: "nope" is not an IP address or CIDR range',
      'tenant contoso, connector x: treatMessagesAsInternal: cannot be combined with cloudServicesMailEnabled',
      'tenant contoso, connector y: requireTls: expected true or false, got string "yes"',
      'tenant contoso, connector y: senderIPAddresses: an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName',
    ],
  );
});

test('treatMessagesAsInternal cannot be combined with cloudServicesMailEnabled', () => {
  assert.deepEqual(
    problems({ tenants: [tenant({ inboundConnectors: [{ ...onprem, treatMessagesAsInternal: true, cloudServicesMailEnabled: true }] })] }),
    ['tenant contoso, connector onprem: treatMessagesAsInternal: cannot be combined with cloudServicesMailEnabled'],
  );
});

test('duplicate tenant names and duplicate connector names are refused (case-insensitive)', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({ inboundConnectors: [onprem, { ...onprem, name: 'OnPrem' }] }),
        { name: 'Contoso' },
      ],
    }),
    [
      'tenant contoso, connector OnPrem: name: duplicate connector name in this tenant',
      'tenant Contoso: name: duplicate tenant name; tenants[0] has it too',
    ],
  );
});

test('unknown keys are refused, with the key they were probably meant to be', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({
          rejectDirectsend: true,
          acceptedDomains: [{ domain: 'contoso.com', matchSubdomains: true }],
          inboundConnectors: [{ ...onprem, requireTLS: true, colour: 'blue' }],
        }),
      ],
      version: 2,
    }),
    [
      'version: unknown key',
      'tenant contoso: rejectDirectsend: unknown key (did you mean rejectDirectSend?)',
      'tenant contoso, accepted domain contoso.com: matchSubdomains: unknown key (did you mean matchSubDomains?)',
      'tenant contoso, connector onprem: requireTLS: unknown key (did you mean requireTls?)',
      'tenant contoso, connector onprem: colour: unknown key',
    ],
  );
});

test('bad enum values, wrong types and missing fields name the field and what was expected', () => {
  assert.deepEqual(
    problems({
      tenants: [
        tenant({
          relayRuleSet: '2024',
          rejectDirectSend: 'yes',
          acceptedDomains: [{ domain: 'contoso.com', type: 'Internal' }, { type: 'Authoritative' }, { domain: 'bad..example' }],
          inboundConnectors: [
            { ...onprem, type: 'Onpremises' },
            { ...onprem, name: 'x', allowBareLineEndings: 'fix', senderDomains: ['a..b'], senderIPAddresses: '1.2.3.4' },
            { type: 'Partner' },
          ],
        }),
        { acceptedDomains: [] },
        'just a string',
      ],
    }),
    [
      'tenant contoso: relayRuleSet: expected one of auto|2023-11|legacy, got "2024"',
      'tenant contoso: rejectDirectSend: expected true or false, got string "yes"',
      'tenant contoso, accepted domain contoso.com: type: expected one of Authoritative|InternalRelay, got "Internal"',
      'tenant contoso, acceptedDomains[1]: domain: required',
      'tenant contoso, accepted domain bad..example: domain: "bad..example" is not a valid domain name',
      'tenant contoso, connector onprem: type: expected one of OnPremises|Partner, got "Onpremises"',
      'tenant contoso, connector x: senderIPAddresses: expected array, got string "1.2.3.4"',
      'tenant contoso, connector x: senderDomains[0]: "a..b" is not a domain, "*.domain" or "*"',
      'tenant contoso, connector x: allowBareLineEndings: expected one of reject|normalize, got "fix"',
      'tenant contoso, inboundConnectors[2]: name: required',
      'tenants[1]: name: required',
      'tenants[2]: expected object, got string "just a string"',
    ],
  );
});

test('the error message lists every problem', () => {
  assert.throws(
    () => validateDirectory({ tenants: [{ name: 'a', acceptedDomains: [{ domain: 'a.example', type: 'ExternalRelay' }] }, { name: 'a' }] }),
    {
      name: 'DirectoryValidationError',
      message:
        'invalid directory (2 problems):\n' +
        '  tenant a, accepted domain a.example: type: ExternalRelay exists only in on-premises Exchange; use Authoritative or InternalRelay\n' +
        '  tenant a: name: duplicate tenant name; tenants[0] has it too',
    },
  );
});
