import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseDirectoryYaml, serializeDirectoryYaml } from './yaml.js';
import { DirectoryValidationError } from './validate.js';
import { demoDirectory } from './demo.js';

const ISSUE_EXAMPLE = `tenants:
  - name: contoso
    relayRuleSet: auto
    rejectDirectSend: false
    acceptedDomains:
      - { domain: contoso.com, type: Authoritative, matchSubDomains: false }
    inboundConnectors:
      - name: onprem
        type: OnPremises
        enabled: true
        senderIPAddresses: [203.0.113.0/24, "2001:db8::/48"]
        tlsSenderCertificateName: mail.contoso.com   # or "*.contoso.com"
        requireTls: false
        restrictDomainsToIPAddresses: false
        restrictDomainsToCertificate: false
        senderDomains: ["*"]
        treatMessagesAsInternal: false
`;

const EXPORTED = `tenants:
  - name: contoso
    relayRuleSet: auto
    rejectDirectSend: false
    acceptedDomains:
      - { domain: contoso.com, type: Authoritative, matchSubDomains: false }
    inboundConnectors:
      - name: onprem
        type: OnPremises
        enabled: true
        senderIPAddresses: [ 203.0.113.0/24, "2001:db8::/48" ]
        tlsSenderCertificateName: mail.contoso.com
        requireTls: false
        restrictDomainsToIPAddresses: false
        restrictDomainsToCertificate: false
        senderDomains: [ "*" ]
        treatMessagesAsInternal: false
        cloudServicesMailEnabled: false
        allowBareLineEndings: reject
        comment: ""
`;

test('the documented format reads, and is written back with every default in a fixed order', () => {
  const dir = parseDirectoryYaml(ISSUE_EXAMPLE);
  assert.equal(serializeDirectoryYaml(dir), EXPORTED);
  // YAML 1.1 readers (other tools) see the same values: no plain `:` inside flow lists, no yes/no booleans.
  assert.deepEqual(parse(EXPORTED, { version: '1.1' }), parse(EXPORTED));
});

test('export → parse → export is byte-identical, including odd values that need quoting', () => {
  const text = serializeDirectoryYaml(
    parseDirectoryYaml(`tenants:
  - name: "yes"
    acceptedDomains: []
    inboundConnectors:
      - { name: "a: b # c", type: OnPremises, senderIPAddresses: ["::1"], comment: "multi\\nline: 'quoted' \\"text\\"" }
  - name: "12"
  - name: "on"
  - name: "1_000"
  - name: "2001-01-01"
  - name: null-ish
    inboundConnectors:
      - { name: "*", type: Partner, tlsSenderCertificateName: "*.partner.example", senderDomains: ["*.partner.example"] }
`),
  );
  assert.equal(serializeDirectoryYaml(parseDirectoryYaml(text)), text);
  assert.deepEqual(parse(text, { version: '1.1' }), parse(text));
  const again = parseDirectoryYaml(text);
  assert.equal(again.tenants[0]!.name, 'yes');
  assert.equal(again.tenants[1]!.name, '12');
  assert.equal(again.tenants[0]!.inboundConnectors[0]!.comment, `multi\nline: 'quoted' "text"`);
  assert.equal(again.tenants[5]!.inboundConnectors[0]!.tlsSenderCertificateName, '*.partner.example');
});

test('an empty directory is written as an empty list and read back', () => {
  assert.equal(serializeDirectoryYaml({ tenants: [] }), 'tenants: []\n');
  assert.deepEqual(parseDirectoryYaml('tenants: []\n'), { tenants: [] });
  assert.deepEqual(parseDirectoryYaml(''), { tenants: [] });
});

test('YAML syntax errors and duplicate keys are validation errors with a position', () => {
  assert.throws(() => parseDirectoryYaml('tenants: [\n'), (err: unknown) => {
    assert.ok(err instanceof DirectoryValidationError);
    assert.match(err.lines[0]!, /^not valid YAML \(line \d+, column \d+\): /);
    return true;
  });
  assert.throws(() => parseDirectoryYaml('tenants:\n  - name: a\n    name: b\n'), (err: unknown) => {
    assert.ok(err instanceof DirectoryValidationError);
    assert.match(err.lines[0]!, /^not valid YAML \(line 3, column 5\): Map keys must be unique/);
    return true;
  });
});

test('examples/demo/tenants.yaml is the demo directory, written in export form', () => {
  const text = readFileSync(new URL('../../../examples/demo/tenants.yaml', import.meta.url), 'utf8');
  assert.deepEqual(parseDirectoryYaml(text), demoDirectory);
  assert.equal(serializeDirectoryYaml(demoDirectory), text);
});
