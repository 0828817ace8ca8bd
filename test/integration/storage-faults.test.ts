/**
 * Storage faults on real, small file systems the test mounts (tmpfs; the suite runs as root here
 * and in CI, and skips with the reason where mounting is not permitted): a full spool and a full
 * database disk refuse new mail with `452 4.3.1` and leave no trace of it, nothing accepted before
 * is damaged, new mail is accepted again as soon as there is space, and every message that got its
 * `250` is delivered afterwards. A read-only data directory stops `serve` at start with a message
 * that says so.
 */
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runRelaygate, spawnRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs.js';
import { waitFor } from '../support/wait-for.js';

const tenants = `tenants:
  - name: load
    acceptedDomains:
      - { domain: load.example }
    inboundConnectors:
      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }
`;

function config(delivery: string): string {
  return `hostname: relay.test
dataDir: ./data
listeners:
  - { name: plain, address: "127.0.0.1:0", tls: none }
delivery: ${delivery}
`;
}

/** One message in its own session; the reply to the end of DATA (or to the first command refused). */
async function send(port: number, subject: string): Promise<string> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port });
  try {
    assert.match(await c.read(), /^220 /);
    assert.match(await c.command('EHLO app.load.example'), /^250/);
    for (const [line, expect] of [['MAIL FROM:<app@load.example>', /^250 /], [`RCPT TO:<${subject}@external.example>`, /^250 /], ['DATA', /^354 /]] as const) {
      const reply = await c.command(line);
      if (!expect.test(reply)) return reply;
    }
    c.write(`From: app@load.example\r\nSubject: ${subject}\r\n\r\n${`body of ${subject}\r\n`.repeat(200)}.\r\n`);
    const reply = await c.read();
    await c.command('QUIT');
    return reply;
  } finally {
    c.close();
  }
}

const queueId = (reply: string): string | null => /^250 2\.0\.0 OK <([0-9a-z]+)>$/.exec(reply)?.[1] ?? null;

class Site {
  readonly dir = mkdtempSync(join(tmpdir(), 'relaygate-storage-'));
  readonly data = join(this.dir, 'data');
  readonly mounts: Tmpfs[] = [];
  serve: ServeProcess | null = null;

  async prepare(): Promise<void> {
    writeFileSync(join(this.dir, 'relaygate.yaml'), config('{ enabled: false }'));
    writeFileSync(join(this.dir, 'tenants.yaml'), tenants);
    const applied = await runRelaygate(['apply', '-f', 'tenants.yaml', '--config', 'relaygate.yaml'], this.dir);
    assert.equal(applied.code, 0, applied.stderr);
  }

  async start(file = 'relaygate.yaml'): Promise<number> {
    this.serve = await startServe(['--config', file], this.dir, ['plain']);
    return this.serve.ports.get('plain')!;
  }

  async stop(): Promise<void> {
    await this.serve?.stop();
    this.serve = null;
  }

  queued(): Array<{ id: string; subject: string }> {
    const db = new Database(join(this.data, 'relaygate.db'), { readonly: true });
    try {
      return db.prepare('SELECT id, subject FROM messages ORDER BY id').all() as Array<{ id: string; subject: string }>;
    } finally {
      db.close();
    }
  }

  integrity(): unknown {
    const db = new Database(join(this.data, 'relaygate.db'), { readonly: true });
    try {
      return db.pragma('integrity_check');
    } finally {
      db.close();
    }
  }

  spoolIds(): string[] {
    const spool = join(this.data, 'spool');
    return readdirSync(spool)
      .filter((b) => b !== 'filler' && b !== 'lost+found')
      .flatMap((b) => readdirSync(join(spool, b)).map((f) => f.replace(/\.eml$/, '')))
      .sort();
  }

  body(id: string): string {
    return readFileSync(join(this.data, 'spool', id.slice(0, 5), `${id}.eml`), 'latin1');
  }

  /** Starts serve again with delivery to `receiver` and waits until it got `count` messages. */
  async deliverAll(receiver: SmtpReceiver, count: number): Promise<void> {
    writeFileSync(
      join(this.dir, 'deliver.yaml'),
      config(`\n  dns: { servers: ["127.0.0.1:9"], timeout: 1s }\n  routes:\n    - { domains: [external.example], host: "127.0.0.1:${receiver.port}", tls: none }`),
    );
    await this.start('deliver.yaml');
    await waitFor(() => receiver.messages.length >= count, { message: () => `${count} messages delivered (${receiver.messages.length})`, timeoutMs: 30_000 });
    await waitFor(() => this.queued().length === 0, { message: 'the queue empties', timeoutMs: 10_000 });
    await this.stop();
  }

  async cleanup(): Promise<void> {
    await this.stop();
    for (const m of [...this.mounts].reverse()) m.unmount();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs for the site, or skips the test with the reason. */
function mount(site: Site, path: string, sizeKb: number, t: { skip(reason: string): void }): Tmpfs | null {
  const m = mountTmpfs(path, sizeKb);
  if ('skip' in m) {
    t.skip(m.skip);
    return null;
  }
  site.mounts.push(m);
  return m;
}

describe('a full spool', () => {
  let site: Site;
  let receiver: SmtpReceiver;
  before(async () => {
    site = new Site();
    receiver = new SmtpReceiver();
    await receiver.start();
  });
  after(async () => {
    await site.cleanup();
    await receiver.stop();
  });

  test('refuses new mail with 452 4.3.1, leaves no partial body, keeps what it had, and accepts again once there is space', async (t) => {
    await site.prepare();
    const spool = mount(site, join(site.data, 'spool'), 1024, t);
    if (!spool) return;
    const port = await site.start();
    const accepted: string[] = [];
    for (const s of ['before-1', 'before-2']) accepted.push(queueId(await send(port, s))!);
    assert.equal(accepted.filter(Boolean).length, 2);
    spool.fill();
    assert.equal(await send(port, 'while-full'), '452 4.3.1 Insufficient system storage');
    assert.deepEqual(site.queued().map((m) => m.subject), ['before-1', 'before-2'], 'the refused message is not queued');
    assert.deepEqual(site.spoolIds(), [...accepted].sort(), 'and left no partial body');
    spool.unfill();
    const after = queueId(await send(port, 'after'));
    assert.ok(after, 'accepted again once there is space');
    accepted.push(after);
    await site.stop();
    assert.deepEqual(site.integrity(), [{ integrity_check: 'ok' }]);
    for (const id of accepted) assert.match(site.body(id), /\r\n\r\n(body of [a-z0-9-]+\r\n){200}$/, `the body of ${id} is whole`);
    await site.deliverAll(receiver, 3);
    assert.deepEqual(receiver.messages.map((m) => /Subject: (\S+)/.exec(m.body.toString())?.[1]).sort(), ['after', 'before-1', 'before-2']);
  });
});

describe('a full database disk', () => {
  let site: Site;
  let receiver: SmtpReceiver;
  before(async () => {
    site = new Site();
    receiver = new SmtpReceiver();
    await receiver.start();
  });
  after(async () => {
    await site.cleanup();
    await receiver.stop();
  });

  test('refuses new mail with 452 4.3.1 and no body left behind, keeps what it had, and accepts again once there is space', async (t) => {
    const data = mount(site, site.data, 4096, t);
    if (!data) return;
    await site.prepare();
    // The spool on a file system of its own, with room: only the database runs out of space.
    const spool = mount(site, join(site.data, 'spool'), 4096, t);
    if (!spool) return;
    const port = await site.start();
    const accepted: string[] = [];
    for (const s of ['before-1', 'before-2']) accepted.push(queueId(await send(port, s))!);
    assert.equal(accepted.filter(Boolean).length, 2);
    data.fill();
    // SQLite may still have room in pages it holds: the first commits can succeed.
    let refused = '';
    for (let i = 0; i < 50 && !refused; i++) {
      const reply = await send(port, `while-full-${i}`);
      const id = queueId(reply);
      if (id) accepted.push(id);
      else refused = reply;
    }
    assert.equal(refused, '452 4.3.1 Insufficient system storage');
    const queuedNow = site.queued();
    assert.deepEqual(queuedNow.map((m) => m.id), [...accepted].sort(), 'exactly the acknowledged messages are queued');
    assert.deepEqual(site.spoolIds(), [...accepted].sort(), 'the refused message left no body');
    data.unfill();
    const after = queueId(await send(port, 'after'));
    assert.ok(after, 'accepted again once there is space');
    accepted.push(after);
    await site.stop();
    assert.deepEqual(site.integrity(), [{ integrity_check: 'ok' }]);
    await site.deliverAll(receiver, accepted.length);
    assert.equal(receiver.messages.length, accepted.length, 'every acknowledged message delivered once');
  });
});

describe('a read-only data directory', () => {
  let site: Site;
  before(() => {
    site = new Site();
  });
  after(async () => {
    await site.cleanup();
  });

  test('stops serve at start with a message that names the directory and the reason, with or without a stale lock', async (t) => {
    const data = mount(site, site.data, 4096, t);
    if (!data) return;
    await site.prepare();
    mkdirSync(join(site.data, 'spool'), { recursive: true });
    const expected = `relaygate: cannot start: the data directory ${site.data} is not writable (read-only file system); serve keeps its queue there\n`;
    data.remount('ro');
    const fresh = await spawnRelaygate(['serve', '--config', 'relaygate.yaml'], site.dir);
    data.remount('rw');
    assert.deepEqual({ code: fresh.code, stderr: fresh.stderr }, { code: 2, stderr: expected });
    // The lock of a serve that was killed is still there: taking it over must not get further.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    writeFileSync(join(site.data, 'serve.lock'), `${dead.pid}\n`);
    data.remount('ro');
    const stale = await spawnRelaygate(['serve', '--config', 'relaygate.yaml'], site.dir);
    data.remount('rw');
    assert.deepEqual({ code: stale.code, stderr: stale.stderr }, { code: 2, stderr: expected });
    assert.deepEqual(site.integrity(), [{ integrity_check: 'ok' }]);
  });
});
