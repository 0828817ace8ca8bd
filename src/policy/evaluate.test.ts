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

describe('evaluate: bounces returning to SRS addresses (our rule)', () => {
  const srs = 'SRS0=HHH=TT=saas.example=news@relay.example.net';
  const at = new Date('2024-03-01T10:00:00Z');

  test('a verified SRS address from an unknown host is returned to its original sender', () => {
    const d = evaluate(snapshot, {
      at,
      connection: { ip: '192.0.2.200', tls: false },
      message: { mailFrom: '', recipients: [srs, 'x@external.example'], srsReturns: { [srs]: 'news@saas.example' } },
    });
    assert.deepEqual(
      d.recipients.map((r) => [r.verdict, `${r.reply.code} ${r.reply.enhanced} ${r.reply.text}`, r.rule, r.domain]),
      [
        ['inbound', '250 2.1.5 Recipient OK', 'srs-return', 'saas.example'],
        ['rejected', '550 5.7.64 TenantAttribution; Relay Access Denied', 'nobody', 'external.example'],
      ],
    );
  });

  test('a forged or expired SRS address is refused, and an unverified one is judged as any address', () => {
    const forged = evaluate(snapshot, {
      at,
      connection: { ip: '192.0.2.200', tls: false },
      message: { mailFrom: '', recipients: [srs], srsReturns: { [srs]: null } },
    });
    const r = forged.recipients[0]!;
    assert.equal(`${r.reply.code} ${r.reply.enhanced} ${r.reply.text}`, '550 5.1.1 Unknown or expired SRS address');
    assert.equal(r.rule, 'srs-return');
    const plain = evaluate(snapshot, { at, connection: { ip: '192.0.2.200', tls: false }, message: { mailFrom: '', recipients: [srs] } });
    assert.equal(plain.recipients[0]!.rule, 'nobody');
  });

  test('only bounces return: mail with a sender to a verified SRS address is judged by the ordinary rules', () => {
    const d = evaluate(snapshot, {
      at,
      connection: { ip: '192.0.2.200', tls: false },
      message: { mailFrom: 'spam@spammer.example', recipients: [srs], srsReturns: { [srs]: 'news@saas.example' } },
    });
    const r = d.recipients[0]!;
    assert.equal(`${r.reply.code} ${r.reply.enhanced} ${r.reply.text}`, '550 5.7.64 TenantAttribution; Relay Access Denied');
    assert.equal(r.rule, 'nobody');
  });
});
