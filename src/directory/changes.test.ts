import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffDirectories, formatChange } from './changes.js';
import { validateDirectory } from './validate.js';
import { demoDirectory } from './demo.js';

test('identical directories, or the same items in another order, have no changes', () => {
  assert.deepEqual(diffDirectories(demoDirectory, demoDirectory), []);
  const reordered = { tenants: [...demoDirectory.tenants].reverse() };
  assert.deepEqual(diffDirectories(demoDirectory, reordered), []);
});

test('added and removed tenants list their domains and connectors; changed items list their fields', () => {
  const before = validateDirectory({
    tenants: [
      { name: 'gone', acceptedDomains: [{ domain: 'gone.example' }], inboundConnectors: [{ name: 'p', type: 'Partner' }] },
      {
        name: 'kept',
        acceptedDomains: [{ domain: 'kept.example' }, { domain: 'old.example' }],
        inboundConnectors: [{ name: 'c', type: 'OnPremises', senderIPAddresses: ['10.0.0.1'] }],
      },
    ],
  });
  const after = validateDirectory({
    tenants: [
      {
        name: 'kept',
        rejectDirectSend: true,
        acceptedDomains: [{ domain: 'kept.example', type: 'InternalRelay' }, { domain: 'new.example' }],
        inboundConnectors: [{ name: 'c', type: 'OnPremises', senderIPAddresses: ['10.0.0.0/24'], requireTls: true }],
      },
      { name: 'fresh', acceptedDomains: [{ domain: 'fresh.example' }] },
    ],
  });
  const changes = diffDirectories(before, after);
  assert.deepEqual(changes.map(formatChange), [
    '- tenant gone',
    '- accepted domain gone/gone.example',
    '- connector gone/p',
    '~ tenant kept: rejectDirectSend false → true',
    '- accepted domain kept/old.example',
    '~ accepted domain kept/kept.example: type Authoritative → InternalRelay',
    '+ accepted domain kept/new.example',
    '~ connector kept/c: senderIPAddresses ["10.0.0.1/32"] → ["10.0.0.0/24"], requireTls false → true',
    '+ tenant fresh',
    '+ accepted domain fresh/fresh.example',
  ]);
  assert.deepEqual(changes[7], {
    action: 'change',
    entity: 'connector',
    tenant: 'kept',
    name: 'c',
    fields: [
      { field: 'senderIPAddresses', before: ['10.0.0.1/32'], after: ['10.0.0.0/24'] },
      { field: 'requireTls', before: false, after: true },
    ],
  });
});
