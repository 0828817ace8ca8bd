import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replies } from '../core/reply.js';
import type { DecisionRecord } from '../store/ports.js';
import type { RecipientDecision, TransactionDecision } from '../policy/types.js';
import { DecisionLog, recipientRecord } from './decision-log.js';

const tx = { steps: [], certificate: { presented: false, names: [], reason: null }, remedies: [] } as unknown as TransactionDecision;
function decision(verdict: RecipientDecision['verdict']): RecipientDecision {
  return {
    address: 'v@elsewhere.example',
    domain: 'elsewhere.example',
    verdict,
    reply: verdict === 'rejected' ? Replies.relayDenied : Replies.recipientOk,
    rule: verdict === 'rejected' ? 'nobody' : 'relay',
    tenant: null,
    tenantId: null,
    connector: null,
    partnerConnector: null,
    attribution: 'none',
    ruleSet: '2023-11',
    currentVerdict: verdict,
    legacyVerdict: verdict,
    directionality: 'Incoming',
    conditions: null,
    explanation: 'x',
  };
}

test('refusals are rate-limited per source IP; accepts never are; the drop count rides along', () => {
  const written: DecisionRecord[] = [];
  const log = new DecisionLog({ recordDecisions: (d) => written.push(...d) }, 3, 1);
  const base = (ip: string, at: number) => ({ at, sessionId: 's', clientIp: ip, mailFrom: 'x@y.example' });
  for (let i = 0; i < 10; i++) log.recipient(base('192.0.2.1', 1000), tx, decision('rejected'), null);
  assert.equal(written.length, 3);
  log.recipient(base('192.0.2.2', 1000), tx, decision('rejected'), null);
  for (let i = 0; i < 5; i++) log.recipient(base('192.0.2.1', 1000), tx, decision('relay'), 'q1');
  assert.equal(written.length, 9);
  // Two seconds later two tokens are back; the first refusal written says how many were dropped.
  log.recipient(base('192.0.2.1', 3000), tx, decision('rejected'), null);
  const last = written.at(-1)!;
  assert.equal(last.reply, '550 5.7.64 TenantAttribution; Relay Access Denied');
  assert.equal((JSON.parse(last.steps) as { suppressedBefore: number }).suppressedBefore, 7);
});

test('a decision records what the impact report groups by: the certificate name that counted, the P2 domain, the remedies', () => {
  const withCert = {
    ...tx,
    certificate: { presented: true, names: ['mail.contoso.example', 'relay.contoso.example'], reason: null },
    remedies: [{ rank: 2, text: 'Add the certificate host name mail.contoso.example as an accepted domain of contoso.' }],
  } as unknown as TransactionDecision;
  const base = { at: 1000, sessionId: 's', clientIp: '192.0.2.1', mailFrom: '' };
  const record = recipientRecord({ ...base, headerFrom: 'Alerts@Contoso.EXAMPLE' }, withCert, decision('relay'), 'q1');
  assert.deepEqual([record.certificateName, record.headerFromDomain, record.remedies], [
    'mail.contoso.example', 'contoso.example', [{ rank: 2, text: 'Add the certificate host name mail.contoso.example as an accepted domain of contoso.' }],
  ]);
  const before = recipientRecord(base, tx, decision('rejected'), null);
  assert.deepEqual([before.certificateName, before.headerFromDomain, before.remedies], [null, null, []], 'before DATA: no P2; no trusted certificate: no name');
});

test("a refusal's row names the tenant and connector the connection was attributed to", () => {
  const attributed = { ...tx, tenant: 'contoso', tenantId: '01JH0000000000000000000001', connector: 'apps' } as unknown as TransactionDecision;
  const base = { at: 1000, sessionId: 's', clientIp: '192.0.2.1', mailFrom: 'app@vendor.example' };
  const refused = recipientRecord(base, attributed, decision('rejected'), null);
  assert.deepEqual([refused.tenantId, refused.tenant, refused.connector], ['01JH0000000000000000000001', 'contoso', 'apps']);
  const inbound = recipientRecord(base, attributed, { ...decision('inbound'), tenant: 'fabrikam', tenantId: '01JH0000000000000000000002' }, 'q1');
  assert.deepEqual([inbound.tenantId, inbound.tenant, inbound.connector], ['01JH0000000000000000000002', 'fabrikam', null], "inbound mail is the recipient's tenant's, on no connector of the sender's");
  const nobodys = recipientRecord(base, { ...tx, tenant: null, tenantId: null, connector: null } as unknown as TransactionDecision, decision('rejected'), null);
  assert.deepEqual([nobodys.tenantId, nobodys.tenant, nobodys.connector], [null, null, null]);
});
