import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { validateDirectory } from '../../../directory/index.js';
import { migrate, openSqlite } from '../database.js';
import { SqliteDecisionStore } from '../decision-store.js';
import { SqliteDirectoryStore } from '../directory-store.js';
import { SqliteQueueStore } from '../queue-store.js';
import { migrations } from './index.js';

/** A database as relaygate left it before message tenant ids: messages and decisions name their tenant. */
async function before008(file: string): Promise<void> {
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= 7));
  await new SqliteDirectoryStore(db).replace(validateDirectory({ tenants: [{ name: 'demo' }, { name: 'Fabrikam' }] }));
  const message = db.prepare(
    "INSERT INTO messages (id, tenant, attribution, directionality, mail_from, size, received_at) VALUES (?, ?, 'ip', 'Originating', 'a@demo.example', 1, 0)",
  );
  for (const [id, tenant] of [['m1', 'demo'], ['m2', 'DEMO'], ['m3', 'fabrikam'], ['m4', 'gone'], ['m5', null]] as const) message.run(id, tenant);
  db.prepare("INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES ('m1', 'b@remote.test', 'remote.test', 'queued', 0, 0)").run();
  const decision = db.prepare(
    "INSERT INTO decisions (at, session_id, client_ip, tenant, attribution, verdict, reply, rule_set, current_verdict, legacy_verdict, steps) VALUES (0, ?, '192.0.2.1', ?, 'ip', 'relay', '250', '2023-11', 'relay', 'relay', '[]')",
  );
  for (const [session, tenant] of [['s1', 'Demo'], ['s2', 'gone'], ['s3', null]] as const) decision.run(session, tenant);
  db.close();
}

test('migration 008 gives queued messages and decisions the id of the tenant they name, in any case', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'relaygate-008-')), 'relaygate.db');
  await before008(file);
  const db = openSqlite(file);
  try {
    const directory = new SqliteDirectoryStore(db);
    const [demo, fabrikam] = (await directory.load()).tenants;
    const messages = db.prepare('SELECT id, tenant_id, tenant FROM messages ORDER BY id').all();
    assert.deepEqual(messages, [
      { id: 'm1', tenant_id: demo!.id, tenant: 'demo' },
      { id: 'm2', tenant_id: demo!.id, tenant: 'DEMO' },
      { id: 'm3', tenant_id: fabrikam!.id, tenant: 'fabrikam' },
      { id: 'm4', tenant_id: null, tenant: 'gone' },
      { id: 'm5', tenant_id: null, tenant: null },
    ], 'names the directory no longer has keep their name, with no id');
    const decisions = await new SqliteDecisionStore(db).list();
    assert.deepEqual(decisions.map((d) => [d.sessionId, d.tenantId, d.tenant]), [['s3', null, null], ['s2', null, 'gone'], ['s1', demo!.id, 'Demo']]);
    assert.deepEqual(migrate(db), [], 'applied once');

    // From now on a rename keeps the message's tenant; a removal leaves the message without one.
    await directory.replace({ tenants: [{ ...demo!, name: 'acme' }, fabrikam!] });
    const [work] = await new SqliteQueueStore(db).claimDue('node-a', 0, 60_000, 10);
    assert.deepEqual([work?.message.id, work?.message.tenantId, work?.message.tenant], ['m1', demo!.id, 'demo']);
    await directory.removeTenant('acme');
    assert.deepEqual(db.prepare('SELECT id, tenant_id FROM messages WHERE id IN (?, ?) ORDER BY id').all('m1', 'm2'), [
      { id: 'm1', tenant_id: null },
      { id: 'm2', tenant_id: null },
    ]);
    assert.deepEqual((await new SqliteDecisionStore(db).list({ tenantId: demo!.id })).map((d) => d.sessionId), ['s1'], 'decisions keep the id');
  } finally {
    db.close();
  }
});
