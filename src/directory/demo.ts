/**
 * The demo directory, the same as examples/demo/tenants.yaml (a test keeps them equal). `serve`
 * seeds an empty store with it so the quick start has something to relay for.
 */
import { connectorDefaults, type StoredDirectory } from './model.js';

/** Its tenants carry fixed ids, so applying the example file and seeding the demo agree. */
export const demoDirectory: StoredDirectory = deepFreeze({
  tenants: [
    {
      name: 'demo',
      id: '01KDVDNA004XNWFYF7PXYNW6VA',
      relayRuleSet: 'auto',
      rejectDirectSend: false,
      acceptedDomains: [
        { domain: 'demo.example', type: 'Authoritative', matchSubDomains: false },
        { domain: 'apps.demo.example', type: 'InternalRelay', matchSubDomains: true },
        // The certificate connector's name is accepted too, so bounces and foreign senders relay through it.
        { domain: 'mail.demo.example', type: 'Authoritative', matchSubDomains: false },
      ],
      inboundConnectors: [
        {
          ...connectorDefaults,
          name: 'loopback',
          type: 'OnPremises',
          senderIPAddresses: ['127.0.0.1/32', '::1/128'],
          senderDomains: ['*'],
          comment: 'Applications on this machine',
        },
        {
          ...connectorDefaults,
          name: 'certificate',
          type: 'OnPremises',
          tlsSenderCertificateName: 'mail.demo.example',
          requireTls: true,
          senderIPAddresses: [],
          senderDomains: ['*'],
          comment: 'The on-premises mail server, identified by its client certificate',
        },
      ],
    },
    {
      name: 'fabrikam',
      id: '01KDVDNA0007K89PQCD9DRT72M',
      relayRuleSet: 'auto',
      rejectDirectSend: true,
      acceptedDomains: [{ domain: 'fabrikam.example', type: 'Authoritative', matchSubDomains: false }],
      inboundConnectors: [
        {
          ...connectorDefaults,
          name: 'partner',
          type: 'Partner',
          senderIPAddresses: ['198.51.100.0/24'],
          restrictDomainsToIPAddresses: true,
          senderDomains: ['partner.example'],
          comment: 'Mail from partner.example must come from its published range',
        },
      ],
    },
  ],
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
