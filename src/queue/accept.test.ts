import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FileBodyStore } from '../store/filesystem/body-store.js';
import type { BodyStore, DecisionRecord } from '../store/ports.js';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import { SqliteDecisionStore } from '../store/sqlite/decision-store.js';
import { SqliteQueueAdminStore } from '../store/sqlite/queue-admin-store.js';
import { GroupCommitter } from './accept-group-commit.js';
import { MessageAcceptor, type MessageEnvelope } from './accept.js';
import { StorageError } from './accept.js';
import { newQueueId } from './queue-id.js';
import { removeOrphanBodies } from './orphan-bodies.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-accept-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  const store = new SqliteQueueStore(db);
  const bodies = new FileBodyStore(join(dir, 'spool'));
  const acceptor = new MessageAcceptor(bodies, new GroupCommitter(store));
  const admin = new SqliteQueueAdminStore(db);
  const listed = () => admin.select({}, { limit: 10_000 });
  return { dir, db, store, bodies, acceptor, listed, decisions: new SqliteDecisionStore(db), cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

function envelope(id: string): MessageEnvelope {
  return {
    id,
    tenantId: null,
    tenant: 'demo',
    connector: 'demo-ip',
    attribution: 'ip',
    directionality: 'Originating',
    mailFrom: 'app@demo.example',
    envId: null,
    ret: null,
    bodyType: '8bitmime',
    smtputf8: false,
    clientIp: '127.0.0.1',
    clientHelo: 'client.test',
    tls: null,
    headerFrom: 'app@demo.example',
    subject: 'hello',
    messageIdHeader: '<1@demo.example>',
    receivedAt: Date.now(),
    recipients: [
      { address: 'a@example.com', domain: 'example.com', notify: null, orcpt: null, state: 'queued', lastReply: null, dsnStatus: null, verdict: 'relay' },
      {
        address: 'b@example.org',
        domain: 'example.org',
        notify: 'FAILURE',
        orcpt: 'rfc822;b@example.org',
        state: 'failed',
        lastReply: '550 5.7.64 TenantAttribution; Relay Access Denied',
        dsnStatus: 'owed',
        verdict: 'rejected',
      },
    ],
  };
}

async function text(bodies: BodyStore, id: string): Promise<string | null> {
  const body = await bodies.open(id);
  return body ? (await buffer(body)).toString('utf8') : null;
}

async function storedIds(bodies: BodyStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of bodies.list()) ids.push(id);
  return ids;
}

async function write(acceptor: MessageAcceptor, id: string, body: string) {
  const file = await acceptor.open(id);
  await pipeline(Readable.from([Buffer.from(body)]), file.writable());
  return file;
}

test('an accepted message has its file and its rows, and the size is the bytes written', async () => {
  const s = setup();
  try {
    const id = newQueueId(new Date());
    const file = await write(s.acceptor, id, 'Subject: hello\r\n\r\nbody\r\n');
    const stored = await s.acceptor.accept(file, envelope(id));
    assert.equal(stored.size, 24);
    assert.equal(await text(s.bodies, id), 'Subject: hello\r\n\r\nbody\r\n');
    const [entry] = await s.listed();
    assert.equal(entry?.message.id, id);
    assert.deepEqual(
      entry?.recipients.map((r) => [r.address, r.state, r.lastReply]),
      [
        ['a@example.com', 'queued', null],
        ['b@example.org', 'failed', '550 5.7.64 TenantAttribution; Relay Access Denied'],
      ],
    );
    const b = entry?.recipients.find((r) => r.address === 'b@example.org');
    assert.deepEqual(b && { dsnStatus: b.dsnStatus, notify: b.notify, orcpt: b.orcpt, nextAttemptAt: b.nextAttemptAt }, {
      dsnStatus: 'owed', notify: 'FAILURE', orcpt: 'rfc822;b@example.org', nextAttemptAt: stored.receivedAt,
    });
  } finally {
    s.cleanup();
  }
});

test('concurrent acceptances share commit rounds (group commit)', async () => {
  const s = setup();
  try {
    const n = 40;
    const ids = Array.from({ length: n }, () => newQueueId(new Date()));
    const files = await Promise.all(ids.map((id, i) => write(s.acceptor, id, `m${i}\r\n`)));
    await Promise.all(files.map((f, i) => s.acceptor.accept(f, envelope(ids[i]!))));
    assert.equal((await s.listed()).length, n);
    assert.equal(s.acceptor.stats.messages, n);
    assert.ok(s.store.transactions < n / 2, `expected batched commits, got ${s.store.transactions} transactions for ${n} messages`);
  } finally {
    s.cleanup();
  }
});

test('a failing commit gives a StorageError and leaves neither file nor rows', async () => {
  const s = setup();
  try {
    s.db.exec("CREATE TRIGGER fail_insert BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END");
    const id = newQueueId(new Date());
    const file = await write(s.acceptor, id, 'x\r\n');
    await assert.rejects(s.acceptor.accept(file, envelope(id)), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /simulated disk failure/);
      return true;
    });
    assert.equal(await s.bodies.open(id), null);
    assert.deepEqual(await storedIds(s.bodies), []);
    assert.deepEqual(await s.listed(), [], 'no message, so no recipient');
  } finally {
    s.cleanup();
  }
});

test('one bad message in a round does not fail the others', async () => {
  const s = setup();
  try {
    s.db.exec("CREATE TRIGGER fail_one BEFORE INSERT ON messages WHEN NEW.subject = 'bad' BEGIN SELECT RAISE(ABORT, 'bad row'); END");
    const ids = [0, 1, 2].map(() => newQueueId(new Date()));
    const files = await Promise.all(ids.map((id) => write(s.acceptor, id, 'x\r\n')));
    const results = await Promise.allSettled(
      files.map((f, i) => s.acceptor.accept(f, { ...envelope(ids[i]!), subject: i === 1 ? 'bad' : 'ok' })),
    );
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual((await s.listed()).map((e) => e.message.id).sort(), [ids[0], ids[2]].sort());
  } finally {
    s.cleanup();
  }
});

test('a spool that cannot be written gives a StorageError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-accept-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    writeFileSync(join(dir, 'spool'), 'not a directory');
    const acceptor = new MessageAcceptor(new FileBodyStore(join(dir, 'spool')), new GroupCommitter(new SqliteQueueStore(db)));
    await assert.rejects(acceptor.open(newQueueId(new Date())), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /cannot create the spool file/);
      return true;
    });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decisions ride along with the next round and abandoned files are removed', async () => {
  const s = setup();
  try {
    const decision: DecisionRecord = {
      at: Date.now(),
      sessionId: 's1',
      messageId: null,
      clientIp: '192.0.2.1',
      tenantId: null,
      tenant: null,
      connector: null,
      attribution: 'none',
      mailFrom: 'x@evil.example',
      recipient: 'y@elsewhere.example',
      verdict: 'rejected',
      reply: '550 5.7.64 TenantAttribution; Relay Access Denied',
      ruleSet: '2023-11',
      currentVerdict: 'rejected',
      legacyVerdict: 'rejected',
      certificateName: null,
      headerFromDomain: null,
      remedies: [],
      steps: '[]',
    };
    s.acceptor.recordDecisions([decision]);
    await s.acceptor.drain();
    const [stored] = await s.decisions.list();
    assert.equal(stored?.reply, decision.reply);
    assert.equal(stored?.recipient, 'y@elsewhere.example');
    const file = await write(s.acceptor, newQueueId(new Date()), 'x');
    await s.acceptor.abandon(file);
    assert.deepEqual(await storedIds(s.bodies), []);
  } finally {
    s.cleanup();
  }
});

test('the start-up sweep removes spool files no message refers to and keeps the others', async () => {
  const s = setup();
  try {
    const keptId = newQueueId(new Date());
    const kept = await s.acceptor.accept(await write(s.acceptor, keptId, 'k'), envelope(keptId));
    const orphanId = newQueueId(new Date(Date.now() - 86_400_000));
    const orphan = await write(s.acceptor, orphanId, 'o');
    await orphan.sync();
    await orphan.commit();
    const removed = await removeOrphanBodies(s.bodies, s.store, Date.now());
    assert.deepEqual(removed, [orphanId]);
    assert.equal(await s.bodies.open(orphanId), null);
    assert.equal(await text(s.bodies, kept.id), 'k');
  } finally {
    s.cleanup();
  }
});

test('the sweep keeps a young body no message refers to yet: another process may be receiving it', async () => {
  const s = setup();
  try {
    const receivingId = newQueueId(new Date(Date.now() - 60_000));
    const receiving = await write(s.acceptor, receivingId, 'still arriving');
    assert.deepEqual(await removeOrphanBodies(s.bodies, s.store, Date.now()), []);
    await s.acceptor.accept(receiving, envelope(receivingId));
    assert.equal(await text(s.bodies, receivingId), 'still arriving');
    // Hours later it is committed, so it stays; had it never been, it would go now.
    assert.deepEqual(await removeOrphanBodies(s.bodies, s.store, Date.now() + 2 * 3_600_000), []);
  } finally {
    s.cleanup();
  }
});

test('a message that fails its commit takes its decisions with it: none point at a queue id that does not exist', async () => {
  const s = setup();
  try {
    s.db.exec("CREATE TRIGGER fail_one BEFORE INSERT ON messages WHEN NEW.subject = 'bad' BEGIN SELECT RAISE(ABORT, 'bad row'); END");
    const ids = [0, 1, 2].map(() => newQueueId(new Date()));
    const files = await Promise.all(ids.map((id) => write(s.acceptor, id, 'x\r\n')));
    const decisionFor = (id: string): DecisionRecord => ({
      at: Date.now(),
      sessionId: `s-${id}`,
      messageId: id,
      clientIp: '127.0.0.1',
      tenantId: null,
      tenant: 'demo',
      connector: 'demo-ip',
      attribution: 'ip',
      mailFrom: 'app@demo.example',
      recipient: 'a@example.com',
      verdict: 'relay',
      reply: '250 2.1.5 Recipient OK',
      ruleSet: '2023-11',
      currentVerdict: 'relay',
      legacyVerdict: 'relay',
      certificateName: null,
      headerFromDomain: null,
      remedies: [],
      steps: '[]',
    });
    const results = await Promise.allSettled(
      files.map((f, i) => s.acceptor.accept(f, { ...envelope(ids[i]!), subject: i === 1 ? 'bad' : 'ok' }, [decisionFor(ids[i]!)])),
    );
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    await s.acceptor.drain();
    const recorded = (await s.decisions.list()).map((d) => d.messageId).sort();
    assert.deepEqual(recorded, [ids[0], ids[2]].sort());
  } finally {
    s.cleanup();
  }
});
