/**
 * Crash safety under load: Postfix's smtp-source and a Node client send through the real
 * `relaygate serve` process while it delivers to a recording receiver; the process is killed with
 * SIGKILL at planned moments (during DATA, right after a `250`, while a delivery is in flight,
 * while a group-commit round runs, at a random instant) and started again on the same data
 * directory. The clients' own logs of `250 2.0.0 OK <id>` replies are then checked against what
 * the receiver got: every acknowledged message is delivered, or bounced with a DSN; none is lost;
 * a message is delivered twice only when its first delivery was in flight at a kill.
 *
 * The plan (which moments, in which order, after how many events) comes from a seed, printed
 * first; the instants themselves depend on scheduling. Bounded for CI; a bigger run on demand:
 *   RELAYGATE_CRASH_MESSAGES=20000 RELAYGATE_CRASH_KILLS=25 RELAYGATE_CRASH_SEED=123 \
 *     node scripts/run-tests.mjs crash-safety
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { runRelaygate, startServe, writeRecordingRouteConfig, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';
import { seededRandom, seedFrom } from '../support/seeded-random.js';
import { waitFor } from '../support/wait-for.js';

const MESSAGES = Number(process.env.RELAYGATE_CRASH_MESSAGES ?? 1500);
const KILLS = Number(process.env.RELAYGATE_CRASH_KILLS ?? 5);
const SEED = seedFrom('RELAYGATE_CRASH_SEED');
/** Half of the messages come from smtp-source, half from the Node client. */
const SMTP_SOURCE_MESSAGES = Math.ceil(MESSAGES / 2);
const NODE_MESSAGES = MESSAGES - SMTP_SOURCE_MESSAGES;
const NODE_SESSIONS = 6;
const SMTP_SOURCE_SESSIONS = 10;
/** Every 25th Node message goes to a recipient the receiver refuses with 550: it must come back as a DSN. */
const BOUNCE_EVERY = 25;
/** Generous bounds: a phase waits this long for its kill, the end this long for the queue to drain. */
const PHASE_MS = 60_000;
const DRAIN_MS = 60_000 + MESSAGES * 20;

type KillKind = 'during DATA' | 'right after 250' | 'during a delivery' | 'during a group commit' | 'at a random instant';
interface PlannedKill {
  kind: KillKind;
  /** The kill comes with the Nth event of its kind in the phase (or after delayMs for a random instant). */
  after: number;
  delayMs: number;
}

const rnd = seededRandom(SEED);
const eventsPerPhase = (scale: number): number => {
  const most = Math.max(10, Math.floor((scale * NODE_MESSAGES) / (KILLS + 1)));
  return rnd.int(Math.ceil(most * 0.3), most);
};
const allKinds: KillKind[] = ['during DATA', 'right after 250', 'during a delivery', 'during a group commit', 'at a random instant'];
/** Each kind once first (in the seed's order), then the seed's choice. */
const plan: PlannedKill[] = [...rnd.shuffle(allKinds), ...Array.from({ length: Math.max(0, KILLS - allKinds.length) }, () => rnd.pick(allKinds))]
  .slice(0, KILLS)
  .map((kind) => ({
    kind,
    // Spread over the run: a phase's Node messages number about NODE_MESSAGES / (KILLS + 1), and
    // deliveries (both clients') twice that.
    after: eventsPerPhase(kind === 'during a delivery' ? 2 : 1),
    delayMs: kind === 'at a random instant' ? rnd.int(100, 1500) : kind === 'during a group commit' ? rnd.int(1, 20) : 0,
  }));

let dir: string;
let receiver: SmtpReceiver;
let serve: ServeProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-crash-'));
  receiver = new SmtpReceiver({
    rcpt: (to) => (to.startsWith('bounce-') ? { code: 550, text: '5.1.1 no such user' } : 'accept'),
    data: () => {
      trigger('during a delivery');
      return 'accept';
    },
  });
  const sink = await receiver.start();
  writeRecordingRouteConfig(dir, { domains: ['external.example', 'load.example'], sinkPort: sink });
  writeFileSync(
    join(dir, 'tenants.yaml'),
    `tenants:
  - name: load
    acceptedDomains:
      - { domain: load.example }
    inboundConnectors:
      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }
`,
  );
  const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], dir);
  assert.equal(applied.code, 0, applied.stderr);
});

after(async () => {
  await serve?.stop('SIGKILL');
  await receiver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// ---- the kill switch -------------------------------------------------------------------------

interface KillRecord {
  kind: KillKind;
  acknowledgedBefore: number;
  deliveredBefore: number;
  /** Node sessions that had sent the final dot and were waiting for the reply. */
  awaitingReply: number;
}
const kills: KillRecord[] = [];
const acknowledged = new Map<string, { client: 'smtp-source' | 'node'; bounce: boolean }>();
let armed: { kill: PlannedKill; seen: number; fire: () => void } | null = null;
let relayUp = false;
let relayPort = 0;

/** Counts an event; the armed kill fires on its Nth event of that kind. */
function trigger(kind: KillKind): void {
  const a = armed;
  if (!a || a.kill.kind !== kind || ++a.seen < a.kill.after) return;
  if (a.kill.delayMs > 0) setTimeout(() => armed === a && a.fire(), a.kill.delayMs);
  else a.fire();
}

function arm(kill: PlannedKill): void {
  const a = {
    kill,
    seen: 0,
    fire: () => {
      if (armed !== a) return;
      armed = null;
      relayUp = false;
      serve.child.kill('SIGKILL');
      kills.push({ kind: kill.kind, acknowledgedBefore: acknowledged.size, deliveredBefore: receiver.messages.length, awaitingReply });
    },
  };
  armed = a;
  if (kill.kind === 'at a random instant') setTimeout(() => a.fire(), kill.delayMs);
}

async function startRelay(): Promise<void> {
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
  relayPort = serve.ports.get('plain')!;
  relayUp = true;
}

// ---- the clients -----------------------------------------------------------------------------

/** Replies the Node client did not expect (there must be none: a kill only closes the connection). */
const unexpectedReplies: string[] = [];
let nodeSent = 0;
let awaitingReply = 0;
let nodeAcknowledged = 0;
let stopNode = false;

async function nodeSession(): Promise<void> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: relayPort, waitMs: 20_000 });
  try {
    assert.match(await c.read(), /^220 /);
    assert.match(await c.command('EHLO node.client.test'), /^250/);
    for (let i = 0; i < 5 && !stopNode; i++) {
      const n = ++nodeSent;
      const bounce = n % BOUNCE_EVERY === 0;
      assert.equal(await c.command('MAIL FROM:<app@load.example>'), '250 2.1.0 Sender OK');
      assert.equal(await c.command(`RCPT TO:<${bounce ? 'bounce' : 'node'}-${n}@external.example>`), '250 2.1.5 Recipient OK');
      assert.match(await c.command('DATA'), /^354 /);
      const body = `From: app@load.example\r\nTo: node-${n}@external.example\r\nSubject: crash ${n}\r\nMessage-ID: <node-${n}@load.example>\r\n\r\n${'line of the body of a crash-test message\r\n'.repeat(20 + (n % 40))}`;
      const half = Math.floor(body.length / 2);
      c.write(body.slice(0, half));
      trigger('during DATA');
      await sleep(0);
      c.write(body.slice(half) + '.\r\n');
      awaitingReply++;
      trigger('during a group commit');
      const reply = await c.read().finally(() => awaitingReply--);
      const id = /^250 2\.0\.0 OK <([0-9a-z]+)>$/.exec(reply)?.[1];
      if (!id) {
        unexpectedReplies.push(reply);
        return;
      }
      acknowledged.set(id, { client: 'node', bounce });
      nodeAcknowledged++;
      trigger('right after 250');
    }
    await c.command('QUIT');
  } finally {
    c.close();
  }
}

/** One Node client connection after another until stopped; a killed relay only ends a session. */
async function nodeWorker(): Promise<void> {
  while (!stopNode) {
    if (!relayUp) {
      await sleep(10);
      continue;
    }
    await nodeSession().catch(async (err: unknown) => {
      // A killed relay closes the connection; a wrong reply is a finding.
      if (err instanceof assert.AssertionError) unexpectedReplies.push(err.message);
      await sleep(10);
    });
  }
}

interface SmtpSourceRun {
  done: Promise<void>;
  stop(): void;
}

/** smtp-source with -v: its log has the server's replies, so its acknowledged ids are read from it. */
function smtpSource(messages: number): SmtpSourceRun {
  const child = spawn('/usr/sbin/smtp-source', ['-v', '-s', String(SMTP_SOURCE_SESSIONS), '-m', String(messages), '-l', '1500', '-N', '-f', 'app@load.example', '-t', 'source@external.example', '-M', 'smtp-source.client.test', `127.0.0.1:${relayPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let pending = '';
  child.stderr.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const id = /<<< 250 2\.0\.0 OK <([0-9a-z]+)>/.exec(line)?.[1];
      if (id) acknowledged.set(id, { client: 'smtp-source', bounce: false });
    }
  });
  const done = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { done, stop: () => child.kill('SIGKILL') };
}

const smtpSourceAcknowledged = (): number => [...acknowledged.values()].filter((a) => a.client === 'smtp-source').length;

// ---- what the receiver got --------------------------------------------------------------------

/** The relay's queue id of a delivered message (its Received header) or, for a DSN, of the message it reports on. */
async function reportedId(m: ReceivedMessage): Promise<{ id: string; dsn: boolean } | null> {
  if (m.from === '') {
    const parsed = await simpleParser(m.body, { keepDeliveryStatus: true });
    const id = /Queue id: ([0-9a-z]+)/.exec(parsed.text ?? '')?.[1];
    return id ? { id, dsn: true } : null;
  }
  const id = /^Received: [^]*?\r\n\tid ([0-9a-z]+)/.exec(m.body.toString('latin1'))?.[1];
  return id ? { id, dsn: false } : null;
}

test(`kill -9 under load: ${MESSAGES} messages, ${KILLS} kills; every acknowledged message is delivered or bounced, none lost`, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with RELAYGATE_CRASH_SEED=${SEED} RELAYGATE_CRASH_MESSAGES=${MESSAGES} RELAYGATE_CRASH_KILLS=${KILLS})`);
  t.diagnostic(`plan: ${plan.map((k) => `${k.kind} (${k.kind === 'at a random instant' ? `${k.delayMs} ms into the phase` : `event ${k.after}${k.delayMs ? ` + ${k.delayMs} ms` : ''}`})`).join('; ')}`);
  const started = Date.now();
  await startRelay();
  const workers = Array.from({ length: NODE_SESSIONS }, () => nodeWorker());
  const perPhase = Math.ceil(SMTP_SOURCE_MESSAGES / (KILLS + 1));
  try {
    let done = 0;
    for (const kill of plan) {
      const source = smtpSource(perPhase);
      arm(kill);
      await waitFor(() => kills.length > done, { message: `kill ${kill.kind} (event ${kill.after})`, timeoutMs: PHASE_MS, intervalMs: 5 });
      done++;
      await serve.stop('SIGKILL');
      source.stop();
      await source.done;
      await startRelay();
    }
    // The last phase: both clients finish their share on the last process.
    const rest = smtpSource(Math.max(1, SMTP_SOURCE_MESSAGES - smtpSourceAcknowledged()));
    await waitFor(() => nodeAcknowledged >= NODE_MESSAGES, { message: () => `the Node client's ${NODE_MESSAGES} messages acknowledged (${nodeAcknowledged})`, timeoutMs: DRAIN_MS, intervalMs: 50 });
    stopNode = true;
    await Promise.all(workers);
    await rest.done;
  } finally {
    stopNode = true;
    armed = null;
  }
  const clientsDone = (Date.now() - started) / 1000;
  assert.deepEqual(unexpectedReplies, [], 'every command is answered as usual or not at all; the end of DATA with 250');

  // Everything acknowledged comes out: delivered, or bounced back to the sender.
  const outcome = async () => {
    const delivered = new Map<string, number>();
    const bounced = new Map<string, number>();
    const inFlightCopies = new Map<string, number>();
    for (const m of receiver.messages) {
      const r = await reportedId(m);
      if (!r) continue;
      const into = r.dsn ? bounced : delivered;
      into.set(r.id, (into.get(r.id) ?? 0) + 1);
      if (!receiver.settled(m)) inFlightCopies.set(`${r.dsn ? 'dsn ' : ''}${r.id}`, (inFlightCopies.get(`${r.dsn ? 'dsn ' : ''}${r.id}`) ?? 0) + 1);
    }
    const missing = [...acknowledged.entries()].filter(([id, a]) => !(a.bounce ? bounced : delivered).has(id)).map(([id]) => id);
    return { delivered, bounced, inFlightCopies, missing };
  };
  // An empty queue means every acknowledged message has had its last delivery attempt (the
  // receiver records a message before relaygate records the delivery).
  let left: unknown[] = [];
  await waitFor(
    async () => {
      const list = await runRelaygate(['queue', 'list', '--json', '--config', 'relaygate.yaml'], dir);
      left = JSON.parse(list.stdout) as unknown[];
      return left.length === 0;
    },
    { message: () => `the queue empties (${left.length} left)`, timeoutMs: DRAIN_MS, intervalMs: 250 },
  );
  const result = await outcome();
  const drained = (Date.now() - started) / 1000;

  // Duplicates: only of a delivery whose session ended before relaygate went on (the kill came
  // between the receiver's 250 and relaygate's next command on that connection).
  const duplicates: string[] = [];
  const unexplained: string[] = [];
  for (const [kind, counts] of [['', result.delivered], ['dsn ', result.bounced]] as const) {
    for (const [id, copies] of counts) {
      if (copies < 2) continue;
      duplicates.push(`${kind}${id}`);
      if ((result.inFlightCopies.get(`${kind}${id}`) ?? 0) < copies - 1) unexplained.push(`${kind}${id} ×${copies}`);
    }
  }
  const extraCopies = [...result.delivered.values(), ...result.bounced.values()].reduce((n, c) => n + c - 1, 0);
  const deliveredUnacknowledged = [...result.delivered.keys()].filter((id) => !acknowledged.has(id)).length;
  const bounces = [...acknowledged.values()].filter((a) => a.bounce).length;
  t.diagnostic(
    `acknowledged ${acknowledged.size} (smtp-source ${smtpSourceAcknowledged()}, node ${nodeAcknowledged}, of them ${bounces} to bounce), ` +
      `lost ${result.missing.length}, duplicated ${duplicates.length} (${extraCopies} extra copies; not explained by a delivery in flight at a kill: ${unexplained.length}), ` +
      `delivered without a 250 ${deliveredUnacknowledged}, kills ${kills.length}; clients done after ${clientsDone.toFixed(1)} s, queue empty after ${drained.toFixed(1)} s`,
  );
  t.diagnostic(`kills: ${kills.map((k) => `${k.kind} after ${k.acknowledgedBefore} acknowledged / ${k.deliveredBefore} delivered, ${k.awaitingReply} Node sessions awaiting their 250`).join('; ')}`);
  assert.equal(kills.length, KILLS);
  assert.deepEqual(result.missing.map((id) => `${id} (${acknowledged.get(id)?.client})`), [], 'no acknowledged message is lost');
  assert.deepEqual(unexplained, [], 'a message is delivered twice only when its first delivery was in flight at a kill');

  // Nothing is corrupt. Bodies may be left behind by a kill between a finished message's rows and
  // its body (rows go first, by design); no row refers to them, and the start-up sweep removes them
  // once they are an hour old.
  await serve.stop();
  const db = new Database(join(dir, 'data', 'relaygate.db'), { readonly: true });
  try {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    const spool = join(dir, 'data', 'spool');
    const bodies = readdirSync(spool).flatMap((b) => readdirSync(join(spool, b)).map((f) => f.replace(/\.eml$/, '')));
    const referenced = db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
    assert.equal(referenced.n, 0, 'no message row is left');
    t.diagnostic(`bodies left for the orphan sweep: ${bodies.length} (${bodies.filter((id) => acknowledged.has(id)).length} of acknowledged, delivered messages)`);
  } finally {
    db.close();
  }
});
