import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildExchangeOnlineTenant, importExchangeOnline } from './exchange-online-import.js';
import { ExchangeImportError } from './import-error.js';
import type { JsonObject } from './powershell-json.js';

const files = { acceptedDomains: 'ad.json', inboundConnectors: 'ic.json' };

const domain = (over: JsonObject = {}): JsonObject => ({
  DomainName: 'contoso.com',
  DomainType: 'Authoritative',
  MatchSubDomains: false,
  Default: true,
  InitialDomain: false,
  Name: 'contoso.com',
  ...over,
});

const connector = (over: JsonObject = {}): JsonObject => ({
  Name: 'apps',
  Enabled: true,
  ConnectorType: 'OnPremises',
  SenderIPAddresses: ['203.0.113.25'],
  SenderDomains: ['smtp:*;1'],
  TlsSenderCertificateName: null,
  RequireTls: false,
  RestrictDomainsToIPAddresses: false,
  RestrictDomainsToCertificate: false,
  CloudServicesMailEnabled: false,
  TreatMessagesAsInternal: false,
  Comment: '',
  ...over,
});

function build(domains: JsonObject[], connectors: JsonObject[], tenant?: string) {
  return buildExchangeOnlineTenant(domains, connectors, { ...files, tenant });
}

function rejects(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ExchangeImportError, `expected ExchangeImportError, got ${String(err)}`);
    assert.equal(err.code, 'invalid');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('Exchange Online import: accepted domains', () => {
  it('reads DomainType by name and by number (Authoritative 0, InternalRelay 2), as number or numeric string', () => {
    const r = build(
      [
        domain(),
        domain({ DomainName: 'apps.contoso.net', DomainType: 2, MatchSubDomains: true, Default: false }),
        domain({ DomainName: 'b.example', DomainType: 0, Default: false }),
        domain({ DomainName: 'c.example', DomainType: '2', Default: false }),
        domain({ DomainName: 'd.example', DomainType: 'internalrelay', Default: false }),
      ],
      [connector()],
      't',
    );
    assert.deepEqual(r.tenant.acceptedDomains, [
      { domain: 'contoso.com', type: 'Authoritative', matchSubDomains: false },
      { domain: 'apps.contoso.net', type: 'InternalRelay', matchSubDomains: true },
      { domain: 'b.example', type: 'Authoritative', matchSubDomains: false },
      { domain: 'c.example', type: 'InternalRelay', matchSubDomains: false },
      { domain: 'd.example', type: 'InternalRelay', matchSubDomains: false },
    ]);
  });

  it('refuses ExternalRelay (1) with the property and value named', () => {
    rejects(
      () => build([domain({ DomainType: 1 })], [connector()], 't'),
      'ad.json: Get-AcceptedDomain object 1 ("contoso.com"): property DomainType: cannot read value 1: ExternalRelay exists only in on-premises Exchange; Exchange Online and relaygate use Authoritative or InternalRelay',
    );
  });

  it('stops on an unknown enum value, listing the valid ones', () => {
    rejects(
      () => build([domain({ DomainType: 'Hosted' })], [connector()], 't'),
      'ad.json: Get-AcceptedDomain object 1 ("contoso.com"): property DomainType: cannot read value "Hosted": expected one of Authoritative (0), ExternalRelay (1), InternalRelay (2)',
    );
  });

  it('reads DomainName as a serialized SmtpDomainWithSubdomains object and as *.domain', () => {
    const r = build(
      [
        domain({ DomainName: { Domain: 'Contoso.COM', IncludeSubDomains: false, Address: 'contoso.com' } }),
        domain({ DomainName: '*.relay.contoso.com', DomainType: 'InternalRelay', Default: false }),
      ],
      [connector()],
      't',
    );
    assert.deepEqual(r.tenant.acceptedDomains, [
      { domain: 'contoso.com', type: 'Authoritative', matchSubDomains: false },
      { domain: 'relay.contoso.com', type: 'InternalRelay', matchSubDomains: true },
    ]);
  });

  it('stops on a DomainName that is not a domain', () => {
    rejects(
      () => build([domain({ DomainName: 'not a domain' })], [connector()], 't'),
      'ad.json: Get-AcceptedDomain object 1 ("not a domain"): property DomainName: cannot read value "not a domain": expected a domain name',
    );
  });

  it('names the tenant after the initial onmicrosoft.com domain, else the default domain, else asks for --tenant', () => {
    const initial = build([domain(), domain({ DomainName: 'contoso.onmicrosoft.com', Default: false, InitialDomain: true })], [connector()]);
    assert.equal(initial.tenant.name, 'contoso');
    assert.ok(initial.notes.includes('tenant named "contoso" after the initial domain contoso.onmicrosoft.com (use --tenant to choose)'));
    assert.equal(build([domain()], [connector()]).tenant.name, 'contoso.com');
    assert.equal(build([domain()], [connector()], 'Contoso EU').tenant.name, 'Contoso EU');
    rejects(
      () => build([domain({ Default: false })], [connector()]),
      'ad.json: cannot name the tenant (no InitialDomain or Default domain in the export): give --tenant NAME',
    );
  });

  it('keeps an OutboundOnly domain as accepted and says so', () => {
    const r = build([domain(), domain({ DomainName: 'out.contoso.com', DomainType: 'InternalRelay', Default: false, OutboundOnly: true })], [connector()], 't');
    assert.equal(r.tenant.acceptedDomains.length, 2);
    assert.ok(r.notes.includes('out.contoso.com: OutboundOnly is set; kept as an accepted domain (it still counts for the relay rule)'));
  });

  it('an empty accepted-domains export is an error', () => {
    rejects(() => build([], [connector()], 't'), 'ad.json: no accepted domains in the export');
  });
});

describe('Exchange Online import: inbound connectors', () => {
  it('reads ConnectorType by name and number (OnPremises 1, Partner 2) and keeps disabled and Partner connectors with their settings', () => {
    const r = build(
      [domain()],
      [
        connector({ ConnectorType: 1 }),
        connector({
          Name: 'partner',
          ConnectorType: 2,
          SenderIPAddresses: ['192.0.2.10'],
          SenderDomains: ['smtp:fabrikam.com;1', 'smtp:*.fabrikam.net;1'],
          RequireTls: true,
          RestrictDomainsToIPAddresses: true,
          Comment: 'Fabrikam',
        }),
        connector({ Name: 'old', Enabled: false, SenderIPAddresses: ['198.51.100.0/24'] }),
      ],
      't',
    );
    const [apps, partner, old] = r.tenant.inboundConnectors;
    assert.equal(apps?.type, 'OnPremises');
    assert.deepEqual(
      { type: partner?.type, enabled: partner?.enabled, ips: partner?.senderIPAddresses, domains: partner?.senderDomains, tls: partner?.requireTls, restrict: partner?.restrictDomainsToIPAddresses, comment: partner?.comment },
      { type: 'Partner', enabled: true, ips: ['192.0.2.10/32'], domains: ['fabrikam.com', '*.fabrikam.net'], tls: true, restrict: true, comment: 'Fabrikam' },
    );
    assert.deepEqual({ enabled: old?.enabled, ips: old?.senderIPAddresses }, { enabled: false, ips: ['198.51.100.0/24'] });
  });

  it('reads multi-valued properties as arrays, {"value":[...],"Count":n}, a lone value, null and absent', () => {
    const absent = connector({ Name: 'd', ConnectorType: 'Partner', SenderIPAddresses: [] });
    delete absent.SenderDomains;
    const r = build(
      [domain()],
      [
        connector({ Name: 'a', SenderIPAddresses: { value: ['203.0.113.1', '203.0.113.2'], Count: 2 }, SenderDomains: { value: ['smtp:*;1'], Count: 1 } }),
        connector({ Name: 'b', SenderIPAddresses: '203.0.113.3', SenderDomains: 'smtp:contoso.com;1' }),
        connector({ Name: 'c', ConnectorType: 'Partner', SenderIPAddresses: null, SenderDomains: [] }),
        absent,
      ],
      't',
    );
    assert.deepEqual(
      r.tenant.inboundConnectors.map((c) => [c.name, c.senderIPAddresses, c.senderDomains]),
      [
        ['a', ['203.0.113.1/32', '203.0.113.2/32'], ['*']],
        ['b', ['203.0.113.3/32'], ['contoso.com']],
        ['c', [], []],
        ['d', [], ['*']],
      ],
    );
  });

  it('stops when a wrapped collection lost values (Count disagrees)', () => {
    rejects(
      () => build([domain()], [connector({ SenderIPAddresses: { value: ['203.0.113.1'], Count: 3 } })], 't'),
      'ic.json: Get-InboundConnector object 1 ("apps"): property SenderIPAddresses: cannot read value {"value":["203.0.113.1"],"Count":3}: the collection says Count 3 but holds 1 values',
    );
  });

  it('stops when ConvertTo-Json ran out of depth and wrote a type name', () => {
    rejects(
      () => build([domain()], [connector({ SenderIPAddresses: 'Microsoft.Exchange.Data.MultiValuedProperty`1[Microsoft.Exchange.Data.IPRange]' })], 't'),
      /property SenderIPAddresses: cannot read value .*: a type name instead of values: export again with ConvertTo-Json -Depth 5$/,
    );
  });

  it('reads IP ranges as address, CIDR, low-high (split into CIDR blocks), IPv6, and LowerBound/UpperBound objects', () => {
    const r = build(
      [domain()],
      [
        connector({
          SenderIPAddresses: [
            '203.0.113.7',
            '198.51.100.0/24',
            '192.0.2.0-192.0.2.9',
            '2001:db8::/48',
            { LowerBound: '203.0.113.64', UpperBound: '203.0.113.127', CIDRLength: 26, RangeFormat: 'CIDR' },
            { LowerBound: { IPAddressToString: '203.0.113.200' }, UpperBound: { IPAddressToString: '203.0.113.200' } },
          ],
        }),
      ],
      't',
    );
    assert.deepEqual(r.tenant.inboundConnectors[0]?.senderIPAddresses, [
      '203.0.113.7/32',
      '198.51.100.0/24',
      '192.0.2.0/29',
      '192.0.2.8/31',
      '2001:db8::/48',
      '203.0.113.64/26',
      '203.0.113.200/32',
    ]);
  });

  it('stops on an IP entry it cannot read, naming it', () => {
    rejects(
      () => build([domain()], [connector({ SenderIPAddresses: ['203.0.113.300'] })], 't'),
      'ic.json: Get-InboundConnector object 1 ("apps"): property SenderIPAddresses: cannot read value "203.0.113.300": expected an IP address, address/length or low-high range',
    );
    rejects(
      () => build([domain()], [connector({ SenderIPAddresses: ['10.0.0.9-10.0.0.1'] })], 't'),
      /property SenderIPAddresses: cannot read value "10.0.0.9-10.0.0.1"/,
    );
  });

  it('reads TlsSenderCertificateName plain, wildcard, <I>issuer<S>subject, <S>subject and as an object; reports the issuer as not enforced', () => {
    const r = build(
      [domain()],
      [
        connector({ Name: 'plain', SenderIPAddresses: [], TlsSenderCertificateName: 'Mail.Contoso.com', RequireTls: true }),
        connector({ Name: 'wild', SenderIPAddresses: [], TlsSenderCertificateName: '*.contoso.com', RequireTls: true }),
        connector({ Name: 'x509', SenderIPAddresses: [], TlsSenderCertificateName: '<I>CN=Contoso CA, O=Contoso, C=US<S>CN=relay.contoso.com, O=Contoso, C=US', RequireTls: true }),
        connector({ Name: 'subject', SenderIPAddresses: [], TlsSenderCertificateName: '<S>O=Contoso, CN=smtp.contoso.com', RequireTls: true }),
        connector({ Name: 'object', SenderIPAddresses: [], TlsSenderCertificateName: { CertificateSubject: 'CN=obj.contoso.com, O=Contoso', CertificateIssuer: 'CN=Other CA' } }),
      ],
      't',
    );
    assert.deepEqual(
      r.tenant.inboundConnectors.map((c) => c.tlsSenderCertificateName),
      ['mail.contoso.com', '*.contoso.com', 'relay.contoso.com', 'smtp.contoso.com', 'obj.contoso.com'],
    );
    assert.deepEqual(
      r.notes.filter((n) => n.includes('issuer')),
      [
        'connector x509: certificate issuer "CN=Contoso CA, O=Contoso, C=US" is not enforced: relaygate matches the subject name relay.contoso.com and trusts every CA in tls.clientCa (put only that CA there to pin it)',
        'connector object: certificate issuer "CN=Other CA" is not enforced: relaygate matches the subject name obj.contoso.com and trusts every CA in tls.clientCa (put only that CA there to pin it)',
      ],
    );
  });

  it('stops on a certificate subject without CN', () => {
    rejects(
      () => build([domain()], [connector({ TlsSenderCertificateName: '<I>CN=CA<S>O=Contoso, C=US' })], 't'),
      'ic.json: Get-InboundConnector object 1 ("apps"): property TlsSenderCertificateName: cannot read value "<I>CN=CA<S>O=Contoso, C=US": the subject of "<I>issuer<S>subject" has no CN=',
    );
  });

  it('stops on a non-SMTP address space in SenderDomains', () => {
    rejects(
      () => build([domain()], [connector({ SenderDomains: ['X400:c=US;a= ;p=Contoso;1'] })], 't'),
      /property SenderDomains: cannot read value "X400:c=US;a= ;p=Contoso;1": expected an SMTP address space/,
    );
  });

  it('reads SenderDomains AddressSpace objects', () => {
    const r = build([domain()], [connector({ SenderDomains: [{ Type: 'smtp', Address: '*.Contoso.com', Cost: 1 }] })], 't');
    assert.deepEqual(r.tenant.inboundConnectors[0]?.senderDomains, ['*.contoso.com']);
  });

  it('reads booleans written as "True"/"False" and stops on anything else', () => {
    const r = build([domain()], [connector({ Enabled: 'False', RequireTls: 'True' })], 't');
    assert.deepEqual([r.tenant.inboundConnectors[0]?.enabled, r.tenant.inboundConnectors[0]?.requireTls], [false, true]);
    rejects(
      () => build([domain()], [connector({ RequireTls: 'yes' })], 't'),
      'ic.json: Get-InboundConnector object 1 ("apps"): property RequireTls: cannot read value "yes": expected true or false',
    );
  });

  it('stops on missing Name or ConnectorType', () => {
    const noName = connector();
    delete noName.Name;
    rejects(() => build([domain()], [noName], 't'), 'ic.json: Get-InboundConnector object 1: missing property Name');
    const noType = connector();
    delete noType.ConnectorType;
    rejects(() => build([domain()], [noType], 't'), 'ic.json: Get-InboundConnector object 1 ("apps"): missing property ConnectorType');
  });

  it('passes the result through the directory validator: an OnPremises connector with neither IP nor certificate', () => {
    rejects(
      () => build([domain()], [connector({ SenderIPAddresses: [] })], 't'),
      'the imported configuration is not valid for relaygate:\n  tenant t, connector apps: senderIPAddresses: an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName',
    );
  });

  it('lists each unmodelled property once per cmdlet, and notes a non-empty AssociatedAcceptedDomains', () => {
    const r = build(
      [domain({ Guid: 'g1', AddressBookEnabled: true }), domain({ DomainName: 'b.example', Default: false, Guid: 'g2', PendingRemoval: false })],
      [connector({ Guid: 'g3', ConnectorSource: 'Default', AssociatedAcceptedDomains: ['contoso.com'] }), connector({ Name: 'two', Guid: 'g4', EFSkipIPs: [] })],
      't',
    );
    assert.deepEqual(r.ignored, [
      { cmdlet: 'Get-AcceptedDomain', properties: ['Name', 'Guid', 'AddressBookEnabled', 'PendingRemoval'] },
      { cmdlet: 'Get-InboundConnector', properties: ['Guid', 'ConnectorSource', 'AssociatedAcceptedDomains', 'EFSkipIPs'] },
    ]);
    assert.ok(r.notes.includes('connector apps: AssociatedAcceptedDomains ["contoso.com"] is not modelled: relaygate applies the connector to every accepted domain'));
  });
});

describe('Exchange Online import: the wrong file', () => {
  it('connectors given as accepted domains', () => {
    rejects(
      () => build([connector()], [connector()], 't'),
      'ad.json: object 1 ("apps"): this is the output of Get-InboundConnector (it has ConnectorType, SenderIPAddresses), not of Get-AcceptedDomain: are the files for --accepted-domains and --inbound-connectors swapped?',
    );
  });

  it('accepted domains given as connectors', () => {
    rejects(
      () => build([domain()], [domain()], 't'),
      'ic.json: object 1 ("contoso.com"): this is the output of Get-AcceptedDomain (it has DomainName, DomainType), not of Get-InboundConnector: are the files for --accepted-domains and --inbound-connectors swapped?',
    );
  });

  it('Get-OutboundConnector output given as inbound connectors', () => {
    rejects(
      () => build([domain()], [{ Name: 'to partner', ConnectorType: 'Partner', SmartHosts: ['mx.fabrikam.com'], RecipientDomains: ['fabrikam.com'] }], 't'),
      'ic.json: object 1 ("to partner"): this is the output of Get-OutboundConnector (it has ConnectorType, SmartHosts), not of Get-InboundConnector: export it with: Get-InboundConnector | ConvertTo-Json -Depth 5',
    );
  });

  it('an unrecognised object is named by its first missing property', () => {
    rejects(() => build([{ Foo: 1 }], [connector()], 't'), 'ad.json: Get-AcceptedDomain object 1: missing property DomainName');
  });
});

describe('Exchange Online import: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-eo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const connectorsFile = (): string => write('ic.json', JSON.stringify([connector()]));

  it('reads a single object (one result is not wrapped in an array) with a UTF-8 BOM', async () => {
    const ad = write('ad-bom.json', '\ufeff' + JSON.stringify(domain(), null, 4));
    const ic = write('ic-one.json', '\ufeff' + JSON.stringify(connector()));
    const r = await importExchangeOnline({ acceptedDomains: ad, inboundConnectors: ic, tenant: 't' });
    assert.equal(r.tenant.acceptedDomains[0]?.domain, 'contoso.com');
    assert.equal(r.tenant.inboundConnectors[0]?.name, 'apps');
  });

  it("reads UTF-16 LE with BOM (Windows PowerShell 5.1's > redirection) and the top-level {value, Count} wrapper", async () => {
    const text = JSON.stringify({ value: [domain(), domain({ DomainName: 'b.example', Default: false })], Count: 2 });
    const ad = write('ad-utf16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const r = await importExchangeOnline({ acceptedDomains: ad, inboundConnectors: connectorsFile(), tenant: 't' });
    assert.deepEqual(r.tenant.acceptedDomains.map((d) => d.domain), ['contoso.com', 'b.example']);
  });

  it('truncated JSON: says so, with the file named', async () => {
    const full = JSON.stringify([domain(), domain({ DomainName: 'b.example' })], null, 2);
    const ad = write('ad-truncated.json', full.slice(0, full.length - 40));
    await assert.rejects(importExchangeOnline({ acceptedDomains: ad, inboundConnectors: connectorsFile(), tenant: 't' }), (err: unknown) => {
      assert.ok(err instanceof ExchangeImportError);
      assert.match(err.message, new RegExp(`^${ad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(the file looks truncated\\): `));
      return true;
    });
  });

  it('an empty file and a missing file', async () => {
    const empty = write('empty.json', '\ufeff  \n');
    await assert.rejects(importExchangeOnline({ acceptedDomains: empty, inboundConnectors: connectorsFile(), tenant: 't' }), {
      message: `${empty}: the file is empty`,
    });
    const missing = join(dir, 'nope.json');
    await assert.rejects(importExchangeOnline({ acceptedDomains: missing, inboundConnectors: connectorsFile(), tenant: 't' }), (err: unknown) => {
      assert.ok(err instanceof ExchangeImportError);
      assert.equal(err.message, `--accepted-domains ${missing}: not found`);
      return true;
    });
  });

  it('an array of non-objects', async () => {
    const ad = write('ad-strings.json', '["contoso.com"]');
    await assert.rejects(importExchangeOnline({ acceptedDomains: ad, inboundConnectors: connectorsFile(), tenant: 't' }), {
      message: `${ad}: item 1 is "contoso.com", not an object: expected the output of ConvertTo-Json on cmdlet results`,
    });
  });
});
