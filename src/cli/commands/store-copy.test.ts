import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { demoDirectory } from '../../directory/index.js';
import { openSqliteStores, openStores, type Stores } from '../../app/stores.js';
import { lockDataDir } from '../../app/data-dir-lock.js';
import { accepted, decision, T0 } from '../../store/queue-contract.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import pg from 'pg';
import { TRANSFER_TABLES } from '../../store/transfer.js';
import { cliSandbox, runCliCaptured, type CliSandbox } from '../testing.js';

const database = testDatabase('copy');
const MINUTE = 60_000;

/** An embedded installation with something in every table: tenants and their settings, counts, SRS records, a queue in every state, decisions and bodies. */
async function populate(s: CliSandbox): Promise<{ ids: string[] }> {
  const stores = openSqliteStores({ dataDir: join(s.dir, 'data') });
  try {
    await stores.directory.replace(demoDirectory);
    const [demo, fabrikam] = (await stores.directory.load()).tenants;
    const settings = stores.tenantSettings;
    await settings.putDkimKey({ tenantId: demo!.id, domain: 'demo.example', selector: 's1', algorithm: 'ed25519', privateKey: 'PRIVATE', publicKey: 'PUBLIC', active: true, createdAt: T0 });
    await settings.addRoute(demo!.id, { domains: ['partner.example', '*.partner.example'], host: 'smarthost.example', port: 587, tls: 'required', auth: { user: 'u', pass: 'p' }, clientCert: null });
    await settings.addRoute(fabrikam!.id, { domains: ['*'], host: 'out.fabrikam.example', port: 25, tls: 'opportunistic', auth: null, clientCert: { cert: 'CERT', key: 'KEY' } });
    await settings.setSrsSetting(fabrikam!.id, { enabled: false, rewriteDomain: 'srs.fabrikam.example' });
    await settings.setRelayedHeaders(demo!.id, true);
    await settings.setDailyLimit(demo!.id, 1000);
    await stores.counters.add(demo!.id, '2026-03-02', 42, 1000);
    await stores.secrets.secret('srs', T0);
    await stores.srsMinted.record({ address: 'SRS0=abcd=AB=foreign.example=x@relay.test', messageId: 'minted1', outsideRecipients: 2, at: T0 });
    await stores.srsMinted.reserveReturn('SRS0=abcd=AB=foreign.example=x@relay.test', T0 - MINUTE, 2);
    const messages = [
      accepted({ tenantId: demo!.id, tenant: 'demo' }, ['a@remote.test', 'b@remote.test', { address: 'c@remote.test', verdict: 'internal' }]),
      accepted({ tenantId: fabrikam!.id, tenant: 'fabrikam', receivedAt: T0 + 1 }, [{ address: 'gone@remote.test', state: 'failed', lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied', dsnStatus: 'owed' }]),
    ];
    await stores.queue.commit({ messages, decisions: [decision({ messageId: messages[0]!.id, tenantId: demo!.id, tenant: 'demo' }), decision({ sessionId: 's2', verdict: 'rejected' })] });
    for (const [i, m] of messages.entries()) {
      const w = await stores.bodies.create(m.id);
      await pipeline(Readable.from([Buffer.from(`Subject: m${i}\r\n\r\n`), Buffer.alloc(300_000 + i, i + 1)]), w.writable());
      await w.sync();
      await w.commit();
    }
    // a is deferred after an attempt, b is left in flight (its node stopped), c stays queued.
    const [work] = await stores.queue.claimDue('old-node', T0, 10 * MINUTE, 2);
    const [a] = work!.recipients;
    await stores.queue.record('old-node', [{ id: a!.id, generation: a!.generation, state: 'deferred', reply: '451 4.2.0 busy', remoteMta: 'mx.remote.test', attempted: true, nextAttemptAt: T0 + 30 * MINUTE }], T0 + 1000);
    return { ids: messages.map((m) => m.id) };
  } finally {
    await stores.close();
  }
}

async function everything(stores: Stores) {
  const bodies: Record<string, string> = {};
  for await (const id of stores.bodies.list()) bodies[id] = (await buffer((await stores.bodies.open(id))!)).toString('base64');
  const settings = await stores.tenantSettings.read();
  const [demo] = (await stores.directory.load()).tenants;
  return {
    directory: await stores.directory.load(),
    settings: { ...settings, revision: 0 },
    count: await stores.counters.count(demo!.id, '2026-03-02'),
    secret: await stores.secrets.secret('srs', T0 + 1),
    queue: await stores.queueAdmin.select({}, { limit: 100 }),
    decisions: await stores.decisions.list(),
    bodies,
  };
}

test('store copy moves an embedded installation into PostgreSQL whole, checked by counts; what it reads back is what SQLite held', async () => {
  const url = await freshSchema(await database);
  const password = new URL(url).password;
  const s = cliSandbox();
  try {
    await populate(s);
    const env = { ...s.env, RELAYGATE_STORE_URL: url };
    const copied = await runCliCaptured(['store', 'copy', '--from', 'sqlite', '--config', s.config], { env, cwd: s.dir });
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stdout, new RegExp(`^${join(s.dir, 'data', 'relaygate.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} → postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/`));
    assert.match(copied.stdout, /\n {2}recipients +4 → +4\n/);
    assert.match(copied.stdout, /\n {2}bodies +2 → +2\n {2}\(600031 bytes of message bodies\)\nEvery count matches\.\n$/);
    assert.equal(copied.stdout.includes(password) || copied.stderr.includes(password), false, 'the password is not shown');

    const source = openSqliteStores({ dataDir: join(s.dir, 'data') });
    const target = await openStores({ dataDir: join(s.dir, 'unused'), store: url });
    try {
      const before = await everything(source);
      const after = await everything(target);
      // The recipient left in flight by the stopped node is due again at once, with no lease.
      const expected = before.queue.map((e) => ({
        ...e,
        recipients: e.recipients.map((r) => (r.state === 'inflight' ? { ...r, state: 'queued' as const, lease: null } : r)),
      }));
      assert.deepEqual(after.queue, expected);
      assert.deepEqual({ ...after, queue: [] }, { ...before, queue: [] });
      assert.ok((await target.tenantSettings.revision()) >= (await source.tenantSettings.revision()), 'the settings revision does not go back');
      assert.deepEqual(
        await target.srsMinted.reserveReturn('srs0=abcd=ab=foreign.example=x@relay.test', T0 - MINUTE, 2),
        { recorded: true, returnsLeft: 3, messageId: 'minted1' },
        'the returns counted so far came along',
      );
      const route = await target.tenantSettings.addRoute(after.directory.tenants[0]!.id, { domains: ['new.example'], host: 'h.example', port: 25, tls: 'none' });
      assert.ok(route.id > Math.max(...before.settings.routes.map((r) => r.id)), 'new ids continue after the copied ones');
    } finally {
      await source.close();
      await target.close();
    }

    const again = await runCliCaptured(['store', 'copy', '--from', 'sqlite', '--config', s.config], { env, cwd: s.dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^relaygate: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\S+ already holds a relaygate store: copy into an empty database\n$/);
  } finally {
    s.cleanup();
  }
});

test('store copy refuses while a serve runs on the data directory, and without a target', async () => {
  const url = await freshSchema(await database);
  const s = cliSandbox();
  try {
    await populate(s);
    const lock = lockDataDir(join(s.dir, 'data'), 'node-7');
    try {
      const busy = await runCliCaptured(['store', 'copy', '--from', 'sqlite', '--to', url, '--config', s.config], { env: s.env, cwd: s.dir });
      assert.equal(busy.code, 2);
      assert.equal(busy.stderr, `relaygate: relaygate serve is running on ${join(s.dir, 'data')} (node node-7, pid ${process.pid}): stop it before copying its store\n`);
    } finally {
      lock.release();
    }
    const noTarget = await runCliCaptured(['store', 'copy', '--from', 'sqlite', '--config', s.config], { env: s.env, cwd: s.dir });
    assert.equal(noTarget.code, 2);
    assert.equal(noTarget.stderr, 'relaygate: --to: give the postgres:// URL to copy into, or set RELAYGATE_STORE_URL\n');
    const wrongSource = await runCliCaptured(['store', 'copy', '--from', 'mysql', '--to', url, '--config', s.config], { env: s.env, cwd: s.dir });
    assert.equal(wrongSource.code, 2);
    assert.equal(wrongSource.stderr, 'relaygate: --from: only "sqlite" can be copied from, got "mysql"\n');
    writeFileSync(join(s.dir, 'empty.yaml'), 'hostname: test.example\ndataDir: ./nothing-here\n');
    const none = await runCliCaptured(['store', 'copy', '--from', 'sqlite', '--to', url, '--config', join(s.dir, 'empty.yaml')], { env: s.env, cwd: s.dir });
    assert.equal(none.code, 1);
    assert.equal(none.stderr, `relaygate: ${join(s.dir, 'nothing-here', 'relaygate.db')} does not exist: there is no SQLite store to copy\n`);
  } finally {
    s.cleanup();
  }
});

test('the transfer list names every table and column of both stores (what is not in it would not be copied)', async () => {
  const url = await freshSchema(await database);
  const s = cliSandbox();
  try {
    const sqlite = openSqliteStores({ dataDir: join(s.dir, 'data') });
    const postgres = await openStores({ dataDir: join(s.dir, 'unused'), store: url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const transfer = Object.entries(TRANSFER_TABLES).map(([table, columns]) => `${table}(${Object.keys(columns).sort().join(',')})`).sort();
      // Working state, not data: the destinations' budget belongs to the nodes that run, not to the copy.
      const notRows = new Set(['schema_migrations', 'bodies', 'body_chunks', 'decisions_default', 'destination_slots', 'destination_rates']);
      const sqliteTables = (sqlite.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>)
        .map((t) => t.name)
        .filter((t) => !notRows.has(t))
        .map((t) => {
          const columns = (sqlite.db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string }>).map((c) => c.name);
          // SQLite computes outside_recipients on read; its secrets table has its old name.
          const name = t === 'delivery_secrets' ? 'server_secrets' : t;
          return `${name}(${[...columns, ...(t === 'messages' ? ['outside_recipients'] : [])].sort().join(',')})`;
        })
        .sort();
      const { rows } = await client.query<{ table_name: string; columns: string }>(
        `SELECT c.table_name, string_agg(c.column_name, ',' ORDER BY c.column_name) AS columns FROM information_schema.columns c
         JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
         WHERE c.table_schema = current_schema() AND NOT k.relispartition GROUP BY c.table_name`,
      );
      const postgresTables = rows
        .filter((r) => !notRows.has(r.table_name))
        .map((r) => `${r.table_name}(${r.columns})`)
        .sort();
      // directory_state and tenant_settings_state keep an id column that is always 1; only the revision moves.
      const withoutStateIds = (list: string[]) => list.map((t) => t.replace(/^(directory_state|tenant_settings_state)\(id,/, '$1(').replace(',updated_at)', ')'));
      assert.deepEqual(withoutStateIds(postgresTables), transfer, 'PostgreSQL');
      assert.deepEqual(withoutStateIds(sqliteTables), transfer, 'SQLite');
    } finally {
      await client.end();
      await sqlite.close();
      await postgres.close();
    }
  } finally {
    s.cleanup();
  }
});
