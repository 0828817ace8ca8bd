/**
 * Puts N messages in a relaygate SQLite queue before `serve` starts, for the deep-queue scenario:
 * one message accepted through the queue store (the real rows), then copied N times in SQL with
 * new ids, its recipient deferred a day, so the backlog stays while the new load is measured.
 * Usage: node dist/bench/peers/prefill-queue.js <dataDir> <count>
 */
import { join } from 'node:path';
import { newQueueId } from '../../src/queue/queue-id.js';
import { openSqlite } from '../../src/store/sqlite/database.js';
import { SqliteQueueStore } from '../../src/store/sqlite/queue-store.js';

const [dataDir, countText] = process.argv.slice(2);
const count = Number(countText);
if (!dataDir || !Number.isInteger(count) || count < 1) {
  console.error('usage: prefill-queue.js <dataDir> <count>');
  process.exit(2);
}
const db = openSqlite(join(dataDir, 'relaygate.db'));
const now = Date.now();
const template = newQueueId(new Date(now));
await new SqliteQueueStore(db).commit({
  messages: [
    {
      id: template,
      mailFrom: 'backlog@bench.local',
      envId: null,
      ret: null,
      bodyType: null,
      smtputf8: false,
      tenantId: null,
      tenant: 'bench',
      size: 10_240,
      headerFrom: 'backlog@bench.local',
      receivedAt: now,
      connector: 'loopback',
      attribution: 'ip',
      directionality: 'Originating',
      clientIp: '127.0.0.1',
      clientHelo: 'prefill',
      tls: null,
      subject: 'backlog',
      messageIdHeader: null,
      recipients: [{ address: 'backlog@example.com', domain: 'example.com', notify: 'NEVER', orcpt: null, state: 'queued', lastReply: null, dsnStatus: null, verdict: 'relay' }],
    },
  ],
  decisions: [],
});
const columns = (table: string) => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
const messageColumns = columns('messages');
const recipientColumns = columns('recipients').filter((c) => c !== 'id');
const idExpr = `substr(@template, 1, 10) || printf('%010d', n)`;
const copy = db.transaction(() => {
  db.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < @count)
     INSERT INTO messages (${messageColumns.join(', ')})
     SELECT ${messageColumns.map((c) => (c === 'id' ? idExpr : c)).join(', ')} FROM seq, messages WHERE messages.id = @template`,
  ).run({ count, template });
  db.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < @count)
     INSERT INTO recipients (${recipientColumns.join(', ')})
     SELECT ${recipientColumns.map((c) => (c === 'message_id' ? idExpr : c === 'state' ? `'deferred'` : c === 'next_attempt_at' ? '@later' : c)).join(', ')}
     FROM seq, recipients WHERE recipients.message_id = @template`,
  ).run({ count, template, later: now + 86_400_000 });
  db.prepare('DELETE FROM messages WHERE id = ?').run(template);
});
copy();
db.close();
console.log(JSON.stringify({ prefilled: count }));
