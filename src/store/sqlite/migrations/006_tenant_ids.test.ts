import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isUlid } from '../../../core/ulid.js';
import { migrate, openSqlite } from '../database.js';
import { SqliteDirectoryStore } from '../directory-store.js';
import { SqliteQuotaCounters } from '../quota-counters.js';
import { SqliteTenantSettingsStore } from '../tenant-settings-store.js';
import { migrations } from './index.js';

/** A database as relaygate left it before tenant ids: tenants by row number, settings by name. */
function before006(file: string): void {
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= 4));
  db.exec(`
INSERT INTO tenants (id, name, position, relay_rule_set, reject_direct_send) VALUES (1, 'demo', 0, 'auto', 0), (2, 'Fabrikam', 1, 'legacy', 1);
INSERT INTO accepted_domains VALUES ('demo.example', 1, 0, 'Authoritative', 0), ('fabrikam.example', 2, 0, 'Authoritative', 0);
INSERT INTO inbound_connectors VALUES (1, 'loopback', 0, 'OnPremises', 1, '["127.0.0.1/32"]', NULL, 0, 0, 0, '["*"]', 0, 0, 'reject', '');
INSERT INTO dkim_keys VALUES
  ('demo', 'demo.example', 's1', 'rsa', 'PRIVATE demo', 'PUBLIC demo', 1, 100),
  ('Demo', 'demo.example', 's1', 'rsa', 'PRIVATE Demo', 'PUBLIC Demo', 1, 200),
  ('Demo', 'demo.example', 's2', 'rsa', 'PRIVATE s2', 'PUBLIC s2', 1, 300),
  ('gone', 'gone.example', 's1', 'rsa', 'PRIVATE gone', 'PUBLIC gone', 1, 100);
INSERT INTO srs_settings VALUES ('DEMO', 0, 'bounces.demo.example'), ('gone', 0, NULL);
INSERT INTO outbound_routes (id, tenant, domains, host, port, tls, auth_user, auth_pass) VALUES
  (3, 'demo', '["*"]', 'smtp.demo.example', 587, 'required', 'u', 'p'),
  (7, 'fabrikam', '["x.example"]', 'smtp.fabrikam.example', 25, 'none', NULL, NULL),
  (8, 'gone', '["*"]', 'smtp.gone.example', 25, 'none', NULL, NULL);
INSERT INTO tenant_limits VALUES ('Demo', 9), ('demo', 5), ('FABRIKAM', NULL);
INSERT INTO tenant_recipient_counts VALUES ('demo', '2026-03-02', 3), ('Demo', '2026-03-02', 2), ('fabrikam', '2026-03-03', 1), ('gone', '2026-03-02', 4);
`);
  db.close();
}

test('migration 006 gives tenants ids and carries their settings across by name in any case', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-006-')), 'relaygate.db');
  before006(file);
  const db = openSqlite(file);
  try {
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again');
    const directory = await new SqliteDirectoryStore(db).load();
    const [demo, fabrikam] = directory.tenants;
    assert.ok(demo && fabrikam && isUlid(demo.id) && isUlid(fabrikam.id) && demo.id !== fabrikam.id);
    assert.deepEqual(
      directory.tenants.map((t) => [t.name, t.relayRuleSet, t.rejectDirectSend, t.acceptedDomains.map((d) => d.domain), t.inboundConnectors.map((c) => c.name)]),
      [['demo', 'auto', false, ['demo.example'], ['loopback']], ['Fabrikam', 'legacy', true, ['fabrikam.example'], []]],
    );
    const state = await new SqliteTenantSettingsStore(db).read();
    assert.deepEqual(
      state.dkimKeys.map((k) => [k.tenantId, k.selector, k.privateKey]),
      [[demo.id, 's1', 'PRIVATE demo'], [demo.id, 's2', 'PRIVATE s2']],
      'of two rows differing in the case of the name, the one spelled like the tenant wins',
    );
    assert.deepEqual(state.srs, [{ tenantId: demo.id, setting: { enabled: false, rewriteDomain: 'bounces.demo.example' } }]);
    assert.deepEqual(state.routes.map((r) => [r.id, r.tenantId, r.route.host, r.route.auth]), [
      [3, demo.id, 'smtp.demo.example', { user: 'u', pass: 'p' }],
      [7, fabrikam.id, 'smtp.fabrikam.example', null],
    ]);
    assert.deepEqual(
      [...state.dailyLimits].sort((a, b) => (a.tenantId === demo.id ? -1 : b.tenantId === demo.id ? 1 : 0)),
      [{ tenantId: demo.id, dailyRecipients: 5 }, { tenantId: fabrikam.id, dailyRecipients: null }],
    );
    const counters = new SqliteQuotaCounters(db);
    assert.equal(await counters.count(demo.id, '2026-03-02'), 5, 'the counts of both spellings add up');
    assert.equal(await counters.count(fabrikam.id, '2026-03-03'), 1);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM tenant_recipient_counts').get() as { n: number }).n, 2, "the removed tenant's rows are gone");
    assert.deepEqual(migrate(db), [], 'applied once');

    // From now on ids hold: a removal takes the settings along, a rename keeps them.
    await new SqliteDirectoryStore(db).replace({ tenants: [{ ...demo, name: 'DEMO' }] });
    const after = await new SqliteTenantSettingsStore(db).read();
    assert.deepEqual([after.dkimKeys.length, after.routes.map((r) => r.id), after.srs.length, after.dailyLimits], [2, [3], 1, [{ tenantId: demo.id, dailyRecipients: 5 }]]);
  } finally {
    db.close();
  }
});
