import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, DirectoryEditError } from './edits.js';
import { DirectoryValidationError } from './validate.js';
import { demoDirectory } from './demo.js';
import { diffDirectories, formatChange } from './changes.js';

test('each edit produces the whole validated directory and leaves the input untouched', () => {
  const snapshot = JSON.stringify(demoDirectory);
  const steps = [
    applyEdit(demoDirectory, { op: 'addTenant', tenant: { name: 'contoso', rejectDirectSend: true } }),
    applyEdit(demoDirectory, { op: 'updateTenant', tenant: 'DEMO', patch: { relayRuleSet: 'legacy' } }),
    applyEdit(demoDirectory, { op: 'removeTenant', tenant: 'fabrikam' }),
    applyEdit(demoDirectory, { op: 'addDomain', tenant: 'fabrikam', domain: { domain: 'Fabrikam.NET' } }),
    applyEdit(demoDirectory, { op: 'removeDomain', domain: 'APPS.demo.example.' }),
    applyEdit(demoDirectory, { op: 'addConnector', tenant: 'demo', connector: { name: 'app', type: 'OnPremises', senderIPAddresses: ['192.0.2.1'] } }),
    applyEdit(demoDirectory, { op: 'updateConnector', tenant: 'demo', connector: 'Loopback', patch: { enabled: false } }),
    applyEdit(demoDirectory, { op: 'removeConnector', tenant: 'demo', connector: 'certificate' }),
  ];
  assert.deepEqual(
    steps.map((d) => diffDirectories(demoDirectory, d).map(formatChange)),
    [
      ['+ tenant contoso'],
      ['~ tenant demo: relayRuleSet auto → legacy'],
      ['- tenant fabrikam', '- accepted domain fabrikam/fabrikam.example', '- connector fabrikam/partner'],
      ['+ accepted domain fabrikam/fabrikam.net'],
      ['- accepted domain demo/apps.demo.example'],
      ['+ connector demo/app'],
      ['~ connector demo/loopback: enabled true → false'],
      ['- connector demo/certificate'],
    ],
  );
  assert.equal(JSON.stringify(demoDirectory), snapshot);
});

test('edits naming something missing or already present fail with a kind', () => {
  const cases: [Parameters<typeof applyEdit>[1], string, string][] = [
    [{ op: 'addTenant', tenant: { name: 'Demo' } }, 'tenant Demo already exists', 'exists'],
    [{ op: 'removeTenant', tenant: 'nobody' }, 'tenant nobody does not exist', 'not-found'],
    [{ op: 'addDomain', tenant: 'nobody', domain: { domain: 'x.example' } }, 'tenant nobody does not exist', 'not-found'],
    [{ op: 'removeDomain', domain: 'x.example' }, 'x.example is not an accepted domain of any tenant', 'not-found'],
    [{ op: 'addConnector', tenant: 'demo', connector: { name: 'LOOPBACK', type: 'Partner' } }, 'tenant demo already has a connector LOOPBACK', 'exists'],
    [{ op: 'removeConnector', tenant: 'demo', connector: 'nope' }, 'tenant demo has no connector nope', 'not-found'],
    [{ op: 'updateConnector', tenant: 'demo', connector: 'nope', patch: {} }, 'tenant demo has no connector nope', 'not-found'],
  ];
  for (const [edit, message, kind] of cases) {
    assert.throws(() => applyEdit(demoDirectory, edit), (err: unknown) => {
      assert.ok(err instanceof DirectoryEditError);
      assert.equal(err.message, message);
      assert.equal(err.kind, kind);
      return true;
    });
  }
});

test('adding a domain that has an owner is a conflict naming the owner, in this tenant or another', () => {
  for (const [tenant, given] of [['fabrikam', 'demo.example'], ['demo', 'Demo.Example.']] as const) {
    assert.throws(() => applyEdit(demoDirectory, { op: 'addDomain', tenant, domain: { domain: given } }), (err: unknown) => {
      assert.ok(err instanceof DirectoryEditError);
      assert.deepEqual([err.kind, err.code, err.message], ['exists', 'conflict', 'demo.example already belongs to tenant demo']);
      return true;
    });
  }
});

test('an edit that makes the directory invalid fails validation with the usual messages', () => {
  assert.throws(
    () => applyEdit(demoDirectory, { op: 'updateConnector', tenant: 'demo', connector: 'certificate', patch: { tlsSenderCertificateName: null } }),
    (err: unknown) => {
      assert.ok(err instanceof DirectoryValidationError);
      assert.deepEqual(err.lines, [
        'tenant demo, connector certificate: senderIPAddresses: an OnPremises connector needs senderIPAddresses or tlsSenderCertificateName',
      ]);
      return true;
    },
  );
});
