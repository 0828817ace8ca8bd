import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateDirectory } from '../directory/index.js';
import { buildSnapshot, evaluate } from './index.js';

const snapshot = buildSnapshot(
  validateDirectory({
    tenants: [
      {
        name: 'fabrikam',
        relayRuleSet: 'legacy',
        acceptedDomains: [{ domain: 'fabrikam.com' }],
        inboundConnectors: [{ name: 'ip', type: 'OnPremises', senderIPAddresses: ['198.51.100.0/24'] }],
      },
    ],
  }),
);

describe('evaluate: per-recipient records', () => {
  test('a recipient refused by hygiene records the rule set of the connection tenant', () => {
    const d = evaluate(snapshot, {
      at: new Date('2024-03-01T10:00:00Z'),
      connection: { ip: '198.51.100.5', tls: false },
      message: { mailFrom: 'app@fabrikam.com', recipients: ['user%x.example@fabrikam.com', 'x@external.example'] },
    });
    assert.equal(d.ruleSet, 'legacy');
    assert.deepEqual(
      d.recipients.map((r) => [r.rule, r.ruleSet]),
      [
        ['hygiene', 'legacy'],
        ['relay', 'legacy'],
      ],
    );
  });

  test('every recipient carries an explanation and the connector of an accepted relay', () => {
    const d = evaluate(snapshot, {
      at: new Date('2024-03-01T10:00:00Z'),
      connection: { ip: '198.51.100.5', tls: false },
      message: { mailFrom: 'app@fabrikam.com', recipients: ['x@external.example', 'alice'] },
    });
    assert.equal(d.recipients[0]!.connector, 'ip');
    assert.equal(d.recipients[0]!.directionality, 'Originating');
    assert.equal(d.recipients[1]!.connector, null);
    for (const r of d.recipients) assert.ok(r.explanation.length > 0);
  });
});
