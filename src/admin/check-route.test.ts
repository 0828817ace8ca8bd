import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminHarness } from '../../test/support/admin-api.js';
import { runCliCaptured } from '../cli/testing.js';
import { createTestPki } from '../../test/support/certificates.js';
import { problemSchema } from './problem.js';

function problem(r: { status: number; json(): any }, status: number, type: string, detail?: string): void {
  const p = problemSchema.parse(r.json());
  assert.deepEqual([r.status, p.type, ...(detail === undefined ? [] : [p.detail])], [status, type, ...(detail === undefined ? [] : [detail])]);
}

const MESSAGE = 'From: app@contoso.example\r\nTo: someone@external.example\r\nSubject: x\r\n\r\nhi\r\n';

test('POST /v1/check answers what `relaygate check --json` answers, for a scenario and for a message, from the same store', async () => {
  const h = await adminHarness();
  try {
    writeFileSync(join(h.dir, 'relaygate.yaml'), 'hostname: relay.test\ndataDir: ./data\n');
    const cli = async (...args: string[]) => {
      const r = await runCliCaptured([...args, '--json', '--config', 'relaygate.yaml'], { env: {}, cwd: h.dir });
      return JSON.parse(r.stdout) as Record<string, any>;
    };
    const scenario = { at: '2026-06-01T09:00:00Z', connection: { ip: '127.0.0.1' }, mailFrom: 'app@contoso.example', recipients: ['someone@external.example'] };
    writeFileSync(join(h.dir, 's.yaml'), JSON.stringify(scenario));
    const api = await h.inject('POST', '/v1/check', { token: h.tokens.admin, body: { scenario } });
    assert.equal(api.status, 200, api.body);
    const { accepted, ...rest } = api.json();
    assert.equal(accepted, true);
    assert.deepEqual(rest, await cli('check', 's.yaml'));
    assert.deepEqual(rest.steps.map((s: { id: string; answer: string }) => `${s.id}:${s.answer}`).slice(0, 3), ['A1:no', 'A2:yes', 'A3:yes']);

    writeFileSync(join(h.dir, 'm.eml'), MESSAGE);
    const expected = await cli('check', '--eml', 'm.eml', '--ip', '127.0.0.1', '--at', '2026-06-01T09:00:00Z');
    const raw = await h.inject('POST', '/v1/check?ip=127.0.0.1&at=2026-06-01T09:00:00Z', { token: h.tokens.admin, payload: MESSAGE, headers: { 'content-type': 'message/rfc822' } });
    const json = await h.inject('POST', '/v1/check', { token: h.tokens.admin, body: { message: MESSAGE, connection: { ip: '127.0.0.1' }, at: '2026-06-01T09:00:00Z' } });
    for (const r of [raw, json]) {
      const { accepted: ok, notes, ...decision } = r.json();
      const { notes: cliNotes, ...cliDecision } = expected;
      assert.equal(ok, false, 'only the header From would have passed, before 2023-11');
      assert.deepEqual(decision, cliDecision);
      assert.deepEqual(notes, ['The message has no Return-Path and mailFrom was not given: MAIL FROM <> (the null sender of a bounce) is assumed.']);
      assert.deepEqual(cliNotes, ['The message has no Return-Path and --mail-from was not given: MAIL FROM <> (the null sender of a bounce) is assumed.']);
      assert.equal(decision.recipients[0].legacyVerdict, 'relay');
      assert.equal(decision.recipients[0].currentVerdict, 'rejected');
    }
    const explicit = await h.inject('POST', '/v1/check?ip=127.0.0.1&mailFrom=app@contoso.example&rcpt=a@external.example,b@external.example', { token: h.tokens.admin, payload: MESSAGE, headers: { 'content-type': 'message/rfc822' } });
    assert.deepEqual(explicit.json().recipients.map((r: { address: string; verdict: string }) => `${r.address}:${r.verdict}`), ['a@external.example:relay', 'b@external.example:relay']);
  } finally {
    await h.close();
  }
});

test('a tenant token checks against its own tenant only: the answer never names another tenant', async () => {
  const h = await adminHarness();
  try {
    const scenario = { connection: { ip: '127.0.0.7' }, mailFrom: 'x@partner.example', recipients: ['bob@fabrikam.example'] };
    const admin = (await h.inject('POST', '/v1/check', { token: h.tokens.admin, body: { scenario } })).json();
    assert.equal(admin.recipients[0].tenant, 'fabrikam');
    const contoso = await h.inject('POST', '/v1/check', { token: h.tokens.contosoRead, body: { scenario } });
    assert.equal(contoso.status, 200);
    assert.ok(!contoso.body.replaceAll('bob@fabrikam.example', '').includes('fabrikam'), contoso.body);
    assert.equal(contoso.json().recipients[0].tenant, null);
    assert.equal(contoso.json().recipients[0].verdict, 'rejected');
  } finally {
    await h.close();
  }
});

test('check input errors: exact problems, nothing read from the server\'s disk', async () => {
  const h = await adminHarness();
  try {
    const check = (body: unknown) => h.inject('POST', '/v1/check', { token: h.tokens.admin, body });
    problem(await check({}), 400, 'invalid', 'give either "scenario" or "message" (with "connection")');
    problem(await check({ scenario: { connection: { ip: '127.0.0.1' }, recipients: ['a@b.example'] }, message: MESSAGE }), 400, 'invalid', 'give either "scenario" or "message" (with "connection")');
    problem(await check({ message: MESSAGE }), 400, 'invalid', 'a message check needs "connection" with at least "ip"');
    problem(await check({ message: MESSAGE, connection: { ip: '10.0.0.0/8' } }), 400, 'invalid', 'expected an IPv4 or IPv6 address (no /prefix), got "10.0.0.0/8"');
    problem(await check({ message: 'Subject: none\r\n\r\nx\r\n', connection: { ip: '127.0.0.1' } }), 400, 'invalid', 'no recipients (no To or Cc)');
    problem(await check({ message: MESSAGE, connection: { ip: '127.0.0.1', certificate: 'not pem' } }), 400, 'invalid', 'no PEM certificate found');
    problem(await check({ message: MESSAGE, connection: { ip: '127.0.0.1' }, at: 'yesterday' }), 400, 'invalid', 'at: not an ISO 8601 instant: yesterday');
    problem(await check({ scenario: { directory: '/etc/passwd', connection: { ip: '127.0.0.1' }, recipients: ['a@b.example'] } }), 400, 'invalid', "scenario: directory: no file is read here; the check uses the store's directory");
    problem(await check({ scenario: { connection: { ip: '127.0.0.1', certificate: '/etc/ssl/private/key.pem' }, recipients: ['a@b.example'] } }), 400, 'invalid', 'scenario: connection.certificate: no file is read here; give connection.certificateFacts');
    problem(await check({ scenario: { connection: { ip: '127.0.0.1' }, recipients: [] } }), 400, 'invalid', 'scenario: recipients: give at least 1');
    problem(await h.inject('POST', '/v1/check', { token: h.tokens.admin, payload: MESSAGE, headers: { 'content-type': 'message/rfc822' } }), 400, 'invalid', 'a message check needs the source address of its connection');
    problem(await h.inject('POST', '/v1/check?ip=127.0.0.1', { token: h.tokens.admin, payload: 'x'.repeat(300 * 1024), headers: { 'content-type': 'message/rfc822' } }), 413, 'too-large', `the request body is larger than ${256 * 1024} bytes`);
    problem(await h.inject('POST', '/v1/check', { payload: MESSAGE, headers: { 'content-type': 'message/rfc822' } }), 401, 'unauthorized');
  } finally {
    await h.close();
  }
});

test("a client certificate is judged against the relay's own trust: tls.clientCa, else the CA the demo's listeners trust", async () => {
  const pki = createTestPki();
  const client = pki.client('mailserver', { cn: 'relay.contoso.example', dnsNames: ['relay.contoso.example'] });
  const body = { message: 'From: it@contoso.example\r\nTo: someone@external.example\r\n\r\nx\r\n', connection: { ip: '192.0.2.50', certificate: client.cert }, mailFrom: 'it@contoso.example', at: new Date().toISOString() };
  try {
    for (const [trust, source] of [
      [{ tlsClientCa: pki.ca.certPath }, `tls.clientCa ${pki.ca.certPath}, as the relay does`],
      [{ demoClientCa: pki.ca.certPath }, `the demo's client CA ${pki.ca.certPath}, as the relay does`],
    ] as const) {
      const h = await adminHarness({}, trust);
      try {
        const r = (await h.inject('POST', '/v1/check', { token: h.tokens.admin, body })).json();
        assert.deepEqual([r.tenant, r.connector, r.attribution, r.trustStore, r.accepted], ['contoso', 'mailserver', 'cert', source, true]);
      } finally {
        await h.close();
      }
    }
    const untrusted = await adminHarness();
    try {
      const r = (await untrusted.inject('POST', '/v1/check', { token: untrusted.tokens.admin, body })).json();
      assert.deepEqual([r.tenant, r.attribution, r.accepted], [null, 'none', false], "the test CA is not among Node's roots");
      assert.match(r.trustStore, /^Node's root certificates/);
    } finally {
      await untrusted.close();
    }
  } finally {
    pki.cleanup();
  }
});
