import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminHarness, START, type AdminHarness } from '../../test/support/admin-api.js';
import { runCliCaptured } from '../cli/testing.js';
import { decision } from '../store/queue-contract.js';
import { problemSchema } from './problem.js';

function problem(r: { status: number; json(): any }, status: number, type: string, detail?: string): void {
  const p = problemSchema.parse(r.json());
  assert.deepEqual([r.status, p.type, ...(detail === undefined ? [] : [p.detail])], [status, type, ...(detail === undefined ? [] : [detail])]);
}

const RANGE = 'since=2026-05-01T00:00:00Z&until=2026-06-01T00:00:00Z';

/** contoso: two decisions that pass only by the legacy rule; fabrikam: one refused now that passed before. */
async function decisions(h: AdminHarness): Promise<void> {
  const at = START.getTime() - 2 * 86_400_000;
  const remedies = [{ rank: 3, text: 'Make the application send with an envelope sender (MAIL FROM) in an accepted domain of contoso.' }];
  await h.stores.decisions.append([
    decision({ at, tenantId: h.contoso.id, tenant: 'contoso', clientIp: '127.0.0.1', mailFrom: 'app@elsewhere.test', recipient: 'x@remote.test', verdict: 'relay', ruleSet: 'legacy', currentVerdict: 'rejected', legacyVerdict: 'relay', headerFromDomain: 'contoso.example', remedies }),
    decision({ at: at + 1000, tenantId: h.contoso.id, tenant: 'contoso', clientIp: '127.0.0.1', mailFrom: 'app@elsewhere.test', recipient: 'y@remote.test', verdict: 'relay', ruleSet: 'legacy', currentVerdict: 'rejected', legacyVerdict: 'relay', headerFromDomain: 'contoso.example', remedies }),
    decision({ at, tenantId: h.fabrikam.id, tenant: 'fabrikam', connector: 'partner', clientIp: '127.0.0.7', mailFrom: 'x@partner.example', recipient: 'z@remote.test', verdict: 'rejected', reply: '550 5.7.64 TenantAttribution; Relay Access Denied', currentVerdict: 'rejected', legacyVerdict: 'relay' }),
  ]);
}

test('GET /v1/reports/impact streams what `relaygate report impact --json/--csv` writes; a tenant token gets its own tenant\'s report only', async () => {
  const h = await adminHarness();
  try {
    await decisions(h);
    writeFileSync(join(h.dir, 'relaygate.yaml'), 'hostname: relay.test\ndataDir: ./data\n');
    const cli = async (...args: string[]) => (await runCliCaptured(['report', 'impact', '--since', '2026-05-01T00:00:00Z', '--until', '2026-06-01T00:00:00Z', ...args, '--config', 'relaygate.yaml'], { env: {}, cwd: h.dir })).stdout;
    const json = await h.inject('GET', `/v1/reports/impact?${RANGE}`, { token: h.tokens.admin });
    assert.equal(json.status, 200);
    assert.match(String(json.headers['content-type']), /^application\/json/);
    assert.equal(json.body, await cli('--json'));
    const report = json.json();
    assert.deepEqual(report.totals, { decisions: 3, legacyOnly: 2, newlyRefused: 1, groups: 2, ungrouped: 0 });
    const csv = await h.inject('GET', `/v1/reports/impact?${RANGE}`, { token: h.tokens.admin, headers: { accept: 'text/csv' } });
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.equal(csv.body, await cli('--csv'));
    assert.equal((await h.inject('GET', `/v1/reports/impact?${RANGE}&format=csv`, { token: h.tokens.admin })).body, csv.body);

    const own = (await h.inject('GET', `/v1/reports/impact?${RANGE}`, { token: h.tokens.contosoRead })).json();
    assert.deepEqual([own.query.tenant, own.totals.decisions, own.groups.map((g: { tenant: string }) => g.tenant)], [{ id: h.contoso.id, name: 'contoso' }, 2, ['contoso']]);
    assert.equal((await h.inject('GET', `/v1/reports/impact?${RANGE}&tenant=contoso`, { token: h.tokens.contoso })).json().totals.decisions, 2);
    for (const ref of ['fabrikam', h.fabrikam.id]) {
      problem(await h.inject('GET', `/v1/reports/impact?${RANGE}&tenant=${ref}`, { token: h.tokens.contoso }), 404, 'not-found', `tenant ${ref} does not exist`);
    }
    assert.equal((await h.inject('GET', `/v1/reports/impact?${RANGE}&tenant=${h.fabrikam.id}`, { token: h.tokens.admin })).json().totals.decisions, 1);
    const bad = await h.inject('GET', '/v1/reports/impact?since=soon', { token: h.tokens.admin });
    problem(bad, 400, 'invalid');
    assert.equal(bad.json().field, 'since');
    problem(await h.inject('GET', '/v1/reports/impact?format=xml', { token: h.tokens.admin }), 400, 'invalid');
    problem(await h.inject('GET', '/v1/reports/impact'), 401, 'unauthorized');
  } finally {
    await h.close();
  }
});

test('GET /v1/connectors/health answers what `relaygate connector health --json` does, scoped to the token\'s tenant', async () => {
  const h = await adminHarness();
  try {
    const admin = (await h.inject('GET', '/v1/connectors/health', { token: h.tokens.adminRead })).json();
    assert.deepEqual(admin.connectors.map((c: { tenant: string; connector: string }) => `${c.tenant}/${c.connector}`), ['contoso/apps', 'contoso/mailserver', 'fabrikam/partner']);
    assert.equal(admin.at, new Date(START.getTime() + 120_000).toISOString());
    const own = (await h.inject('GET', '/v1/connectors/health?days=7', { token: h.tokens.fabrikam })).json();
    assert.deepEqual([own.days, own.connectors.map((c: { connector: string }) => c.connector)], [7, ['partner']]);
    problem(await h.inject('GET', '/v1/connectors/health?tenant=contoso', { token: h.tokens.fabrikam }), 404, 'not-found', 'tenant contoso does not exist');
    problem(await h.inject('GET', '/v1/connectors/health?days=0', { token: h.tokens.admin }), 400, 'invalid', '/query/days: expected a number of days from 1 to 366');
    writeFileSync(join(h.dir, 'relaygate.yaml'), 'hostname: relay.test\ndataDir: ./data\n');
    const cli = await runCliCaptured(['connector', 'health', '--json', '--at', admin.at, '--config', 'relaygate.yaml'], { env: {}, cwd: h.dir });
    assert.deepEqual(admin, JSON.parse(cli.stdout));
  } finally {
    await h.close();
  }
});
