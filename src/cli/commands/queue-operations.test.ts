import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliSandbox, type CliSandbox } from '../testing.js';
import { openSqlite, type SqliteDatabase } from '../../store/sqlite/database.js';
import { SqliteQueueStore } from '../../store/sqlite/queue-store.js';
import { SqliteDirectoryStore } from '../../store/sqlite/directory-store.js';
import { findTenant } from '../../directory/find-tenant.js';
import { FileBodyStore } from '../../store/filesystem/body-store.js';
import { newQueueId } from '../../queue/queue-id.js';
import type { AcceptedMessage } from '../../store/ports.js';

const HOUR = 3_600_000;
const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

/** The sandbox's spool, as serve keeps it. */
function bodiesOf(s: CliSandbox): FileBodyStore {
  return new FileBodyStore(join(s.dir, 'data', 'spool'));
}

/** Queues messages as acceptance does: under the id of the tenant of that name (added to the directory if it is not there). */
async function seed(s: CliSandbox, count: number, make: (i: number) => { tenant: string; from: string; to: string[]; ageMs: number }): Promise<{ db: SqliteDatabase; ids: string[] }> {
  const db = openSqlite(join(s.dir, 'data', 'relaygate.db'));
  const directory = new SqliteDirectoryStore(db);
  const tenantIds = new Map<string, string>();
  const idOf = async (name: string): Promise<string> => {
    if (!findTenant(await directory.load(), name)) await directory.addTenant({ name });
    const id = tenantIds.get(name) ?? findTenant(await directory.load(), name)!.id;
    tenantIds.set(name, id);
    return id;
  };
  const bodies = bodiesOf(s);
  const now = Date.now();
  const messages: AcceptedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const m = make(i);
    const receivedAt = now - m.ageMs;
    const id = newQueueId(new Date(receivedAt));
    const body = await bodies.create(id);
    await pipeline(Readable.from([Buffer.from(`From: ${m.from}\r\nSubject: message ${i}\r\n\r\nbody\r\n`)]), body.writable());
    await body.commit();
    messages.push({
      id, tenantId: tenantIds.get(m.tenant) ?? (await idOf(m.tenant)), tenant: m.tenant, connector: null, attribution: 'ip', directionality: 'Originating', mailFrom: m.from, envId: null, ret: null,
      bodyType: null, smtputf8: false, size: 40, clientIp: '127.0.0.1', clientHelo: null, tls: null, headerFrom: m.from,
      subject: `message ${i}`, messageIdHeader: null, receivedAt,
      recipients: m.to.map((a) => ({ address: a, domain: a.split('@')[1]!, notify: null, orcpt: null, state: 'queued' as const, lastReply: null, dsnStatus: null, verdict: 'relay' as const })),
    });
  }
  await new SqliteQueueStore(db).commit({ messages, decisions: [] });
  return { db, ids: messages.map((m) => m.id) };
}

function states(db: SqliteDatabase): Record<string, number> {
  const rows = db.prepare('SELECT state, COUNT(*) AS n FROM recipients GROUP BY state ORDER BY state').all() as Array<{ state: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

test('hold, release, retry, bounce and delete with filters', async () => {
  const s = cliSandbox();
  try {
    const { db, ids } = await seed(s, 4, (i) => ({
      tenant: i < 3 ? 'contoso' : 'fabrikam',
      from: i === 2 ? '' : 'alice@contoso.test',
      to: i === 0 ? ['a@remote.test', 'b@other.test'] : ['c@remote.test'],
      ageMs: i === 0 ? 5 * HOUR : 0,
    }));
    assert.deepEqual(await s.run('queue', 'hold', '--domain', 'remote.test', '--tenant', 'contoso', '--dry-run'), { code: 0, stdout: '3 recipients of 3 messages would be held (dry run: nothing changed)\n', stderr: '' });
    assert.equal((await s.run('queue', 'delete', '--all', '--dry-run', '--json')).stdout, '{\n  "action": "delete",\n  "dryRun": true,\n  "messages": 4,\n  "recipients": 5\n}\n');
    assert.deepEqual(states(db), { queued: 5 }, 'a dry run changes nothing');
    assert.deepEqual(await s.run('queue', 'hold', '--domain', 'remote.test', '--tenant', 'contoso'), { code: 0, stdout: '3 recipients held\n', stderr: '' });
    assert.deepEqual(states(db), { held: 3, queued: 2 });
    assert.equal((await s.run('queue', 'release', ids[0]!)).stdout, '1 recipient released\n');
    assert.equal((await s.run('queue', 'retry', '--older-than', '4h', '--json')).stdout, '{\n  "action": "retry",\n  "recipients": 2\n}\n');
    assert.equal((await s.run('queue', 'bounce', '--state', 'held')).stdout, '2 recipients bounced\n');
    const bounced = db.prepare("SELECT message_id, last_reply, dsn_status FROM recipients WHERE state = 'failed' ORDER BY id").all() as Array<{ message_id: string; last_reply: string; dsn_status: string }>;
    assert.deepEqual(bounced, [
      { message_id: ids[1]!, last_reply: '554 5.0.0 Message returned by the relay operator', dsn_status: 'owed' },
      { message_id: ids[2]!, last_reply: '554 5.0.0 Message returned by the relay operator', dsn_status: 'suppressed' },
    ], 'the null sender gets no DSN');

    const shown = await s.run('queue', 'show', ids[0]!);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, new RegExp(`^id:          ${ids[0]}\\n`));
    assert.match(shown.stdout, /\n  a@remote\.test  queued  attempts=0  next=\S+Z \(due\)\n  b@other\.test  queued  attempts=0  next=\S+Z \(due\)\nheaders:\n  From: alice@contoso\.test\n  Subject: message 0\n$/);
    const json = JSON.parse((await s.run('queue', 'show', ids[0]!, '--json')).stdout) as { recipients: Array<{ address: string }>; headers: string };
    assert.deepEqual(json.recipients.map((r) => r.address), ['a@remote.test', 'b@other.test']);
    assert.deepEqual(await s.run('queue', 'show', 'nope'), { code: 1, stdout: '', stderr: 'relaygate: message nope is not in the queue\n' });

    const bodies = bodiesOf(s);
    const before = await bodies.open(ids[3]!);
    assert.ok(before, 'the body is there before');
    before.destroy();
    assert.equal((await s.run('queue', 'delete', '--tenant', 'fabrikam')).stdout, '1 message deleted\n');
    assert.equal(await bodies.open(ids[3]!), null, 'the body goes with the rows');
    db.close();
  } finally {
    s.cleanup();
  }
});

test('actions refuse to run on the whole queue without --all; bad filters are usage errors', async () => {
  const s = cliSandbox();
  try {
    assert.deepEqual(await s.run('queue', 'delete'), {
      code: 2, stdout: '', stderr: 'relaygate: name message ids or a filter (--tenant, --domain, --state, --older-than), or pass --all\n',
    });
    const bad = await s.run('queue', 'hold', '--state', 'lost');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected queued, inflight, deferred, delivered, failed, held or expired/);
    assert.match((await s.run('queue', 'retry', '--older-than', 'soon')).stderr, /expected a duration such as 30m, 4h or 2d/);
    assert.equal((await s.run('queue', 'retry', '--all')).stdout, '0 recipients will be retried now\n');
  } finally {
    s.cleanup();
  }
});

test('thousands of messages: one command holds and releases them all', async () => {
  const s = cliSandbox();
  try {
    const { db } = await seed(s, 3000, (i) => ({ tenant: 'contoso', from: 'alice@contoso.test', to: [`u${i}@remote.test`], ageMs: 0 }));
    assert.equal((await s.run('queue', 'hold', '--tenant', 'contoso')).stdout, '3000 recipients held\n');
    assert.deepEqual(states(db), { held: 3000 });
    assert.equal((await s.run('queue', 'release', '--all')).stdout, '3000 recipients released\n');
    assert.deepEqual(states(db), { queued: 3000 });
    db.close();
  } finally {
    s.cleanup();
  }
});

test('show names the node that holds an in-flight recipient and until when', async () => {
  const s = cliSandbox();
  try {
    const { db, ids } = await seed(s, 1, () => ({ tenant: 'contoso', from: 'alice@contoso.test', to: ['a@remote.test'], ageMs: 0 }));
    const now = Date.now();
    await new SqliteQueueStore(db).claimDue('relay-b', now, 60_000, 10);
    const shown = await s.run('queue', 'show', ids[0]!);
    assert.match(shown.stdout, new RegExp(`\\n  a@remote\\.test  inflight  attempts=0  leased by relay-b until ${new Date(now + 60_000).toISOString().replace(/\./g, '\\.')}\\n`));
    const json = JSON.parse((await s.run('queue', 'show', ids[0]!, '--json')).stdout) as { recipients: Array<{ lease: unknown }> };
    assert.deepEqual(json.recipients.map((r) => r.lease), [{ owner: 'relay-b', until: now + 60_000 }]);
    db.close();
  } finally {
    s.cleanup();
  }
});

test('list and show say when each waiting recipient is tried next, and (due) once that time has come', async () => {
  const s = cliSandbox();
  try {
    const { db, ids } = await seed(s, 1, () => ({
      tenant: 'contoso', from: 'alice@contoso.test', to: ['a@remote.test', 'b@remote.test', 'c@remote.test', 'd@remote.test'], ageMs: 0,
    }));
    const id = ids[0]!;
    const past = Date.parse('2001-02-03T04:05:06.000Z');
    const future = Date.parse('2999-01-01T00:00:00.000Z');
    const set = db.prepare('UPDATE recipients SET state = ?, next_attempt_at = ?, attempts = ?, last_reply = ?, last_attempt_at = ? WHERE address = ?');
    set.run('queued', past, 0, null, null, 'a@remote.test');
    set.run('deferred', future, 2, '451 4.7.1 try later', past, 'b@remote.test');
    set.run('held', future, 0, null, null, 'c@remote.test');
    set.run('delivered', future, 1, '250 2.0.0 ok', past, 'd@remote.test');
    const { received_at: receivedAt } = db.prepare('SELECT received_at FROM messages WHERE id = ?').get(id) as { received_at: number };
    const received = new Date(receivedAt).toISOString();

    assert.deepEqual(await s.run('queue', 'list'), {
      code: 0,
      stdout: [
        `${id}  ${received}  contoso  <alice@contoso.test>  40 bytes  "message 0"`,
        '    a@remote.test  queued  next 2001-02-03T04:05:06.000Z (due)',
        '    b@remote.test  deferred  next 2999-01-01T00:00:00.000Z  451 4.7.1 try later',
        '    c@remote.test  held',
        '    d@remote.test  delivered  250 2.0.0 ok',
        '1 message',
        '',
      ].join('\n'),
      stderr: '',
    });
    const shown = await s.run('queue', 'show', id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(
      shown.stdout.slice(shown.stdout.indexOf('recipients:\n'), shown.stdout.indexOf('headers:\n')),
      [
        'recipients:',
        '  a@remote.test  queued  attempts=0  next=2001-02-03T04:05:06.000Z (due)',
        '  b@remote.test  deferred  attempts=2  last=2001-02-03T04:05:06.000Z  next=2999-01-01T00:00:00.000Z',
        '      451 4.7.1 try later',
        '  c@remote.test  held  attempts=0',
        '  d@remote.test  delivered  attempts=1  last=2001-02-03T04:05:06.000Z',
        '      250 2.0.0 ok',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await s.run('queue', 'list', '--json')).stdout) as Array<{ recipients: Array<{ nextAttemptAt: number }> }>;
    assert.deepEqual(json[0]!.recipients.map((r) => r.nextAttemptAt), [past, future, future, future]);
    db.close();
  } finally {
    s.cleanup();
  }
});

test('--tenant names the tenant in any case and finds its mail under every name it had; an unknown tenant is not found', async () => {
  const s = cliSandbox();
  try {
    assert.equal((await s.run('apply', '-f', DEMO)).code, 0);
    const { db, ids } = await seed(s, 2, (i) => ({ tenant: i === 0 ? 'demo' : 'fabrikam', from: 'app@demo.example', to: ['a@remote.test'], ageMs: 0 }));
    const id = ids[0]!;
    const { received_at: receivedAt } = db.prepare('SELECT received_at FROM messages WHERE id = ?').get(id) as { received_at: number };
    const listed = (tenant: string) =>
      `${id}  ${new Date(receivedAt).toISOString()}  ${tenant}  <app@demo.example>  40 bytes  "message 0"\n    a@remote.test  queued  next ${new Date(receivedAt).toISOString()} (due)\n1 message\n`;
    assert.deepEqual(await s.run('queue', 'list', '--tenant', 'DEMO'), { code: 0, stdout: listed('demo'), stderr: '' });

    writeFileSync(join(s.dir, 'renamed.yaml'), readFileSync(DEMO, 'utf8').replace('  - name: demo\n', '  - name: acme\n'));
    const renamed = await s.run('apply', '-f', join(s.dir, 'renamed.yaml'));
    assert.deepEqual([renamed.code, renamed.stdout], [0, '~ tenant acme: name demo → acme\n1 change applied\n'], renamed.stderr);
    // The list shows the name the message was accepted under; the filter goes by the tenant's id.
    assert.deepEqual(await s.run('queue', 'list', '--tenant', 'acme'), { code: 0, stdout: listed('demo'), stderr: '' });
    assert.deepEqual(await s.run('queue', 'hold', '--tenant', 'Acme'), { code: 0, stdout: '1 recipient held\n', stderr: '' });
    assert.deepEqual(states(db), { held: 1, queued: 1 });
    for (const args of [['list'], ['hold'], ['retry'], ['delete']]) {
      assert.deepEqual(await s.run('queue', ...args, '--tenant', 'demo'), { code: 1, stdout: '', stderr: 'relaygate: tenant demo does not exist\n' }, args[0]);
    }
    assert.deepEqual(states(db), { held: 1, queued: 1 }, 'an unknown tenant changes nothing');
    db.close();
  } finally {
    s.cleanup();
  }
});
