import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateDirectory } from '../directory/index.js';
import { buildSnapshot, evaluate, SRS_RETURN_RATE, type SrsReturnFact } from './index.js';

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

  test("a decision names its tenant by name and by id, the id the directory gave it (none: null)", () => {
    const withIds = buildSnapshot({ tenants: snapshot.tenants.map((t) => ({ ...t, id: '01JH00000000000000000000FB' })) });
    const input = {
      at: new Date('2024-03-01T10:00:00Z'),
      connection: { ip: '198.51.100.5', tls: false },
      message: { mailFrom: 'app@fabrikam.com', recipients: ['x@external.example', 'user%x.example@fabrikam.com'] },
    };
    const d = evaluate(withIds, input);
    assert.deepEqual([d.tenant, d.tenantId], ['fabrikam', '01JH00000000000000000000FB']);
    assert.deepEqual(d.recipients.map((r) => [r.tenant, r.tenantId]), [['fabrikam', '01JH00000000000000000000FB'], [null, null]]);
    assert.deepEqual(evaluate(snapshot, input).recipients.map((r) => r.tenantId), [null, null]);
    assert.equal(withIds.tenantById('01JH00000000000000000000FB')?.name, 'fabrikam');
    assert.equal(withIds.tenantById('01JH00000000000000000000XX'), undefined);
  });
});

describe('evaluate: bounces returning to SRS addresses (our rule)', () => {
  const srs = 'SRS0=HHH=TT=saas.example=news@relay.example.net';
  const at = new Date('2024-03-01T10:00:00Z');
  const relayed: SrsReturnFact = { original: 'news@saas.example', recorded: true, returnsLeft: 2, recentFromSource: 0 };
  const line = (r: { reply: { code: number; enhanced: string; text: string } }): string => `${r.reply.code} ${r.reply.enhanced} ${r.reply.text}`;
  const bounce = (fact: SrsReturnFact, ip = '192.0.2.200') =>
    evaluate(snapshot, { at, connection: { ip, tls: false }, message: { mailFrom: '', recipients: [srs], srsReturns: { [srs]: fact } } }).recipients[0]!;

  test('a verified SRS address this relay recorded relaying, with returns left, is returned to its original sender from any host', () => {
    const d = evaluate(snapshot, {
      at,
      connection: { ip: '192.0.2.200', tls: false },
      message: { mailFrom: '', recipients: [srs, 'x@external.example'], srsReturns: { [srs]: relayed } },
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
      message: { mailFrom: '', recipients: [srs], srsReturns: { [srs]: { ...relayed, original: null } } },
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
      message: { mailFrom: 'spam@spammer.example', recipients: [srs], srsReturns: { [srs]: relayed } },
    });
    const r = d.recipients[0]!;
    assert.equal(`${r.reply.code} ${r.reply.enhanced} ${r.reply.text}`, '550 5.7.64 TenantAttribution; Relay Access Denied');
    assert.equal(r.rule, 'nobody');
  });

  test('a verified SRS address this relay never recorded relaying is refused: the HMAC alone proves nothing was relayed', () => {
    const r = bounce({ ...relayed, recorded: false, returnsLeft: 0 });
    assert.deepEqual([r.verdict, line(r), r.rule, r.tenant], ['rejected', '550 5.1.1 Unknown or expired SRS address', 'srs-return', null]);
    assert.match(r.explanation, /no record of relaying a message with that sender/);
  });

  test('a recorded SRS address whose returns are used up is refused', () => {
    const r = bounce({ ...relayed, returnsLeft: 0 });
    assert.deepEqual([r.verdict, line(r)], ['rejected', '550 5.1.1 Unknown or expired SRS address']);
    assert.match(r.explanation, /returns are used up \(2 per outside recipient\)/);
    assert.equal(bounce({ ...relayed, returnsLeft: 1 }).verdict, 'inbound', 'the last return is still accepted');
  });

  test('bounces are rate-limited per source address: the limit defers, below it they pass, and the record says so', () => {
    const limited = bounce({ ...relayed, recentFromSource: SRS_RETURN_RATE.perSource }, '198.51.100.7');
    assert.deepEqual([limited.verdict, line(limited)], ['rejected', '450 4.7.1 Too many bounces from this address, try again later']);
    assert.equal(limited.explanation, `Bounce to ${srs} deferred: 30 bounce(s) to SRS addresses from 198.51.100.7 in the last 60 s, limit 30.`);
    const passed = bounce({ ...relayed, recentFromSource: SRS_RETURN_RATE.perSource - 1 });
    assert.equal(passed.verdict, 'inbound');
    assert.match(passed.explanation, /2 return\(s\) left before this one; 29 bounce\(s\) to SRS addresses from 192\.0\.2\.200 in the last 60 s, limit 30/);
  });

  test('a forged address is refused before the record or the rate is looked at', () => {
    const r = bounce({ original: null, recorded: false, returnsLeft: 0, recentFromSource: 1000 });
    assert.equal(line(r), '550 5.1.1 Unknown or expired SRS address');
  });
});

describe('evaluate: the Partner connector that applied to inbound mail', () => {
  const withPartners = buildSnapshot(
    validateDirectory({
      tenants: [
        {
          name: 'contoso',
          acceptedDomains: [{ domain: 'contoso.com' }],
          inboundConnectors: [
            { name: 'partner-ip', type: 'Partner', senderIPAddresses: ['192.0.2.0/24'], senderDomains: ['partner.example'] },
            { name: 'partner-domain', type: 'Partner', senderDomains: ['fabrikam.com'] },
          ],
        },
      ],
    }),
  );
  const inbound = (ip: string, mailFrom: string) =>
    evaluate(withPartners, { at: new Date('2024-03-01T10:00:00Z'), connection: { ip, tls: true }, message: { mailFrom, recipients: ['alice@contoso.com'] } }).recipients[0]!;

  test('by source IP, by sender domain, or none; the connector that attributed a relay stays null', () => {
    assert.deepEqual([inbound('192.0.2.10', 'x@elsewhere.example').verdict, inbound('192.0.2.10', 'x@elsewhere.example').partnerConnector], ['inbound', 'partner-ip']);
    assert.equal(inbound('198.51.100.1', 'carol@fabrikam.com').partnerConnector, 'partner-domain');
    assert.equal(inbound('192.0.2.10', 'carol@fabrikam.com').partnerConnector, 'partner-ip', 'both apply: the one that recognised the source is named');
    assert.equal(inbound('198.51.100.1', 'x@elsewhere.example').partnerConnector, null);
    assert.equal(inbound('198.51.100.1', 'x@elsewhere.example').connector, null);
  });
});
