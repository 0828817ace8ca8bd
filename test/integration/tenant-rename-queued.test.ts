/**
 * Mail already in the queue belongs to the tenant by id: a message held while its tenant is renamed
 * is delivered, once released, with the tenant's DKIM signature, through the tenant's route and with
 * the tenant's SRS rewrite domain; a message whose tenant is removed meanwhile is still delivered,
 * with none of the tenant's settings (through the server's route, unsigned, SRS with the server's
 * defaults, our X-Relaygate-* fields removed as for any tenant that did not choose to keep them).
 * `relaygate serve` runs as its own process; the commands run as the operator runs them; DNS points
 * at a closed port, so only routes can deliver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
/** The tenant's smart host (its route, with AUTH). */
let tenantHost: SmtpReceiver;
/** The server's route for the same domain: what mail without a tenant route takes. */
let serverHost: SmtpReceiver;
let serve: ServeProcess | null = null;
let txt = '';
/** Recipients the tenant's host defers once, so that their message waits in the queue. */
const deferred = new Set<string>();

const relaygate = (...args: string[]) => runRelaygate([...args, '--config', 'relaygate.yaml'], dir);

/** Sends one message from the tenant's connector; returns the queue id from the 250 reply. */
async function send(from: string, to: string, subject: string): Promise<string> {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: serve!.ports.get('plain')! });
  try {
    await c.read();
    await c.command('EHLO app.demo.example');
    assert.equal(await c.command(`MAIL FROM:<${from}>`), '250 2.1.0 Sender OK');
    assert.equal(await c.command(`RCPT TO:<${to}>`), '250 2.1.5 Recipient OK');
    assert.match(await c.command('DATA'), /^354 /);
    const done = await c.command(`From: App <app@demo.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nHello.\r\n.`);
    await c.command('QUIT');
    const id = /^250 2\.0\.0 OK <([0-9a-z]+)>$/.exec(done)?.[1];
    assert.ok(id, done);
    return id;
  } finally {
    c.close();
  }
}

function received(host: SmtpReceiver, subject: string): Promise<ReceivedMessage> {
  return waitFor(() => host.messages.find((m) => m.body.toString('latin1').includes(`\r\nSubject: ${subject}\r\n`)), {
    message: `the message "${subject}" at ${host === tenantHost ? "the tenant's host" : "the server's host"}`,
    timeoutMs: 20_000,
    intervalMs: 50,
  });
}

/** The recipient states of a queued message, as `queue list` shows them. */
async function states(id: string): Promise<string[]> {
  const listed = await relaygate('queue', 'list', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const entry = (JSON.parse(listed.stdout) as Array<{ id: string; recipients: Array<{ state: string }> }>).find((e) => e.id === id);
  return entry?.recipients.map((r) => r.state) ?? [];
}

/** Queues a message the tenant's host defers once, and holds it. */
async function queueAndHold(to: string, subject: string): Promise<string> {
  deferred.add(to);
  const id = await send('news@foreign.example', to, subject);
  await waitFor(async () => (await states(id)).join() === 'deferred', { message: `${subject}: deferred after the first attempt`, intervalMs: 100 });
  assert.deepEqual(await relaygate('queue', 'hold', id), { code: 0, stdout: '1 recipient held\n', stderr: '' });
  return id;
}

/** The tenant's name in the decision of a message, as the running server decided it. */
function decidedTenant(id: string): string | null {
  const db = new Database(join(dir, 'data', 'relaygate.db'), { readonly: true });
  try {
    return (db.prepare('SELECT tenant FROM decisions WHERE message_id = ?').get(id) as { tenant: string | null } | undefined)?.tenant ?? null;
  } finally {
    db.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-rename-queued-'));
  tenantHost = new SmtpReceiver({
    auth: { user: 'demo-route', pass: 'route-secret' },
    rcpt: (to) => (deferred.delete(to) ? { code: 451, text: '4.3.0 try again later' } : 'accept'),
  });
  serverHost = new SmtpReceiver();
  const [tenantPort, serverPort] = [await tenantHost.start(), await serverHost.start()];
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    'hostname: relay.test\ndataDir: ./data\nlisteners:\n  - { name: plain, address: "127.0.0.1:0", tls: none }\n' +
      `delivery:\n  dns: { servers: ["127.0.0.1:9"], timeout: 1s }\n  routes:\n    - { domains: [external.example], host: "127.0.0.1:${serverPort}", tls: none }\n`,
  );
  // Legacy rules: a foreign envelope sender is relayed on the strength of the header From (1c),
  // so SRS rewrites it.
  writeFileSync(
    join(dir, 'tenants.yaml'),
    'tenants:\n  - name: demo\n    relayRuleSet: legacy\n    acceptedDomains:\n      - { domain: demo.example }\n' +
      '    inboundConnectors:\n      - { name: loopback, type: OnPremises, senderIPAddresses: [127.0.0.1] }\n',
  );
  for (const args of [
    ['apply', '-f', 'tenants.yaml'],
    ['route', 'add', 'demo', '--domain', 'external.example', '--host', `127.0.0.1:${tenantPort}`, '--tls', 'none',
      '--auth-user', 'demo-route', '--auth-pass', 'route-secret'],
    ['srs', 'set', 'demo', '--rewrite-domain', 'bounces.demo.example'],
    ['headers', 'set', 'demo', '--relayed', 'keep'],
  ]) {
    const r = await relaygate(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const key = await relaygate('dkim', 'generate', '--tenant', 'demo', '--domain', 'demo.example', '--selector', 's1', '--json');
  assert.equal(key.code, 0, key.stderr);
  txt = (JSON.parse(key.stdout) as { txt: string }).txt;
  serve = await startServe(['--config', 'relaygate.yaml'], dir, ['plain']);
});

after(async () => {
  await serve?.stop();
  await tenantHost?.stop();
  await serverHost?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a message queued before its tenant was renamed is delivered with the tenant's DKIM key, route and SRS domain", async () => {
  const id = await queueAndHold('held@external.example', 'queued as demo');

  const exported = await relaygate('export');
  writeFileSync(join(dir, 'renamed.yaml'), exported.stdout.replace('  - name: demo\n', '  - name: acme\n'));
  const applied = await relaygate('apply', '-f', 'renamed.yaml');
  assert.deepEqual([applied.code, applied.stdout], [0, '~ tenant acme: name demo → acme\n1 change applied\n'], applied.stderr);
  // Until the running server has seen the rename, a message queued by name would still find the
  // tenant: new mail is decided under the new name once it has (delivery reads the same snapshot).
  let probes = 0;
  await waitFor(async () => decidedTenant(await send('app@demo.example', `probe${++probes}@external.example`, `probe ${probes}`)) === 'acme', {
    message: () => `the server decides as acme (${probes} probes)`,
    intervalMs: 100,
  });

  assert.deepEqual(await relaygate('queue', 'release', id), { code: 0, stdout: '1 recipient released\n', stderr: '' });
  const m = await received(tenantHost, 'queued as demo');
  assert.equal(m.user, 'demo-route', "through the tenant's route, with its AUTH user");
  assert.match(m.from, /^SRS0=[^=]+=[^=]+=foreign\.example=news@bounces\.demo\.example$/, "rewritten with the tenant's SRS domain");
  assert.match(m.body.toString('latin1'), /\r\nX-Relaygate-Tenant: demo\r\n/, 'stamped with the name it was accepted under');
  const verified = await dkimVerify(m.body, { resolver: async (name: string) => (name === 's1._domainkey.demo.example' ? [[txt]] : []) });
  assert.deepEqual(verified.results.map((r) => [r.status.result, r.signingDomain]), [['pass', 'demo.example']], "signed with the tenant's key");
  assert.equal(serverHost.messages.length, 0, "nothing took the server's route");
});

test("a message whose tenant is removed while it waits is still delivered, without the tenant's settings", async () => {
  const id = await queueAndHold('held-too@external.example', 'queued as acme');
  const removed = await relaygate('tenant', 'remove', 'acme');
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(await relaygate('queue', 'release', id), { code: 0, stdout: '1 recipient released\n', stderr: '' });
  const m = await received(serverHost, 'queued as acme');
  assert.equal(m.user, null, "through the server's route");
  assert.match(m.from, /^SRS0=[^=]+=[^=]+=foreign\.example=news@relay\.test$/, "relayed mail is rewritten with the server's default SRS domain");
  assert.doesNotMatch(m.body.toString('latin1'), /^DKIM-Signature:/im, 'unsigned: the key went with the tenant');
  assert.doesNotMatch(m.body.toString('latin1'), /^X-Relaygate-/im, "no X-Relaygate-* fields: the tenant's choice to keep them went with it");
  assert.match(m.body.toString('latin1'), /^Received: from [^]*\r\nFrom: /, 'the rest of the header is there');
});
