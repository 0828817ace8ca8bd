import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RecipientVerdict, Remedy } from '../policy/types.js';
import { ImpactGrouping, impactOf, p1DomainOf, type ImpactObservation } from './impact-grouping.js';

const T0 = Date.parse('2026-11-02T10:00:00Z');
const REMEDY_1: readonly Remedy[] = [{ rank: 1, text: 'Use a certificate-based OnPremises connector.' }];
const REMEDY_13: readonly Remedy[] = [...REMEDY_1, { rank: 3, text: 'Make the application send with an envelope sender in an accepted domain.' }];

function obs(over: Partial<ImpactObservation> = {}): ImpactObservation {
  return {
    sourceIp: '203.0.113.25', certificateName: null, p1Domain: 'vendor.example', p2Domain: 'contoso.com', tenant: 'contoso',
    connector: 'Apps', attribution: 'ip', verdictNow: 'rejected', verdictBefore: 'relay', verdictApplied: 'relay', remedies: REMEDY_13,
    at: T0, ...over,
  };
}

/** source|p1|p2|impact|count|ips, in report order. */
function summary(g: ImpactGrouping): string[] {
  return g.sorted().map((x) => [x.source, x.p1Domain, x.p2Domain ?? '?', x.impact ?? '-', x.messages, x.sourceIps.join(' ') + (x.moreSourceIps ? ' ...' : '')].join('|'));
}

describe('impact grouping', () => {
  const kinds: Array<[now: RecipientVerdict, before: RecipientVerdict, applied: RecipientVerdict | null, expected: string | null]> = [
    ['rejected', 'relay', 'relay', 'legacy-only'], // a legacy-rule tenant relays it only by the header From
    ['rejected', 'relay', 'pending', 'legacy-only'], // accepted at RCPT by the legacy rule, the transaction ended before DATA
    ['rejected', 'pending', 'rejected', 'newly-refused'], // 2023-11 refuses at RCPT; before, it hung on the From:
    ['rejected', 'relay', 'rejected', 'newly-refused'],
    ['rejected', 'pending', null, 'newly-refused'], // a message trace: nothing applied
    ['rejected', 'rejected', 'rejected', null], // refused under both: not the rule change
    ['relay', 'relay', 'relay', null],
    ['internal', 'internal', 'internal', null],
    ['inbound', 'inbound', null, null],
  ];
  for (const [now, before, applied, expected] of kinds) {
    it(`now ${now}, before ${before}, applied ${applied ?? '-'}: ${expected ?? 'not touched'}`, () => {
      assert.equal(impactOf({ verdictNow: now, verdictBefore: before, verdictApplied: applied }), expected);
    });
  }

  const domains: Array<[string | null, string]> = [
    ['app@Vendor.EXAMPLE', 'vendor.example'],
    ['', '<>'],
    ['<>', '<>'],
    [null, '(none)'],
    ['"a@b"@contoso.com', 'contoso.com'],
  ];
  for (const [mailFrom, expected] of domains) {
    it(`P1 ${JSON.stringify(mailFrom)} is shown as ${expected}`, () => assert.equal(p1DomainOf(mailFrom), expected));
  }

  const cases: Array<{ name: string; observations: ImpactObservation[]; expected: string[]; maxGroups?: number; ungrouped?: number }> = [
    {
      name: 'the same source, P1 and P2 is one group, counted, with its first and last sighting',
      observations: [obs({ at: T0 + 5000 }), obs({ at: T0 }), obs({ at: T0 + 9000 })],
      expected: ['203.0.113.25|vendor.example|contoso.com|legacy-only|3|203.0.113.25'],
    },
    {
      name: 'a certificate names the source: its addresses are listed (five at most), not split into groups',
      observations: ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6'].map((ip) =>
        obs({ sourceIp: ip, certificateName: 'mail.contoso.com', attribution: 'cert' })),
      expected: ['mail.contoso.com|vendor.example|contoso.com|legacy-only|7|192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 ...'],
    },
    {
      name: 'another P2 domain, P1 domain, connector or remedy is another group; the larger first',
      observations: [
        obs(), obs({ p2Domain: 'fabrikam.com' }), obs({ p2Domain: 'fabrikam.com' }), obs({ p1Domain: '<>' }), obs({ connector: 'Scanners' }),
        obs({ remedies: REMEDY_1 }),
      ],
      expected: [
        '203.0.113.25|vendor.example|fabrikam.com|legacy-only|2|203.0.113.25',
        '203.0.113.25|<>|contoso.com|legacy-only|1|203.0.113.25',
        '203.0.113.25|vendor.example|contoso.com|legacy-only|1|203.0.113.25',
        '203.0.113.25|vendor.example|contoso.com|legacy-only|1|203.0.113.25',
        '203.0.113.25|vendor.example|contoso.com|legacy-only|1|203.0.113.25',
      ],
    },
    {
      name: 'refused now comes before what still passes, whatever the counts',
      observations: [obs(), obs(), obs({ verdictNow: 'relay', verdictBefore: 'relay', sourceIp: '198.51.100.7', remedies: [] }),
        obs({ verdictNow: 'relay', verdictBefore: 'relay', sourceIp: '198.51.100.7', remedies: [] }), obs({ verdictNow: 'relay', verdictBefore: 'relay', sourceIp: '198.51.100.7', remedies: [] }),
        obs({ verdictApplied: 'rejected', verdictBefore: 'pending', p2Domain: null, sourceIp: '203.0.113.99' })],
      expected: [
        '203.0.113.25|vendor.example|contoso.com|legacy-only|2|203.0.113.25',
        '203.0.113.99|vendor.example|?|newly-refused|1|203.0.113.99',
        '198.51.100.7|vendor.example|contoso.com|-|3|198.51.100.7',
      ],
    },
    {
      name: 'beyond the cap no group is opened: the decisions are counted as ungrouped, the open groups keep counting',
      observations: [obs(), obs({ p1Domain: 'a.example' }), obs({ p1Domain: 'b.example' }), obs({ p1Domain: 'c.example' }), obs()],
      maxGroups: 2,
      ungrouped: 2,
      expected: ['203.0.113.25|vendor.example|contoso.com|legacy-only|2|203.0.113.25', '203.0.113.25|a.example|contoso.com|legacy-only|1|203.0.113.25'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = new ImpactGrouping(c.maxGroups);
      for (const o of c.observations) g.add(o);
      assert.deepEqual(summary(g), c.expected);
      assert.equal(g.ungrouped, c.ungrouped ?? 0);
    });
  }

  it('a group keeps its first and last sighting as ISO instants, and the remedies as the engine gave them', () => {
    const g = new ImpactGrouping();
    g.add(obs({ at: T0 + 60_000 }));
    g.add(obs({ at: T0 }));
    const [group] = g.sorted();
    assert.deepEqual([group!.firstSeen, group!.lastSeen], ['2026-11-02T10:00:00.000Z', '2026-11-02T10:01:00.000Z']);
    assert.deepEqual(group!.remedies, REMEDY_13);
  });
});
