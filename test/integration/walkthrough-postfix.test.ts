/**
 * docs/walkthrough-postfix.md, run: a private Postfix instance (its own directories, loopback only)
 * with the page's main.cf sends through a real `relaygate serve` with the page's relaygate.yaml and
 * tenants.yaml, presenting a client certificate for mail.contoso.com, to a recording server. The
 * three messages of the page (application mail, an NDR Postfix makes itself, a SaaS message with a
 * foreign envelope sender) arrive with the envelope senders the page's table names; the Received
 * field, `relaygate apply`, `relaygate check` and Postfix's log say what the page shows. Every block
 * comes from the page; only the values listed in its table are changed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { assertLinesMatch, docBlocks, shellWords, substitute, tableRows } from '../support/doc-blocks.js';
import { postfixUnavailable, startPostfix, type PostfixInstance } from '../support/postfix-instance.js';
import { runRelaygate, startServe, type ServeProcess } from '../support/relaygate-process.js';
import { SmtpReceiver, type ReceivedMessage } from '../support/smtp-receiver.js';
import { waitFor } from '../support/wait-for.js';

const page = readFileSync(new URL('../../../docs/walkthrough-postfix.md', import.meta.url), 'utf8');
const blocks = docBlocks(page);
const skipPostfix = postfixUnavailable();

function block(name: string): string {
  const text = blocks.get(name);
  assert.ok(text !== undefined, `docs/walkthrough-postfix.md has no block ${name}`);
  return text;
}

let dir: string;
let pki: TestPki;
let receiver: SmtpReceiver;
let serve: ServeProcess | undefined;
let postfix: PostfixInstance | undefined;
let relayPort = 0;

/** The page's certificate folders, as folders of the test. */
const relaygateFiles = (): Array<[string, string]> => [['/etc/relaygate/', `${dir}/relaygate/`]];
const postfixFiles = (): Array<[string, string]> => [['/etc/postfix/', `${dir}/postfix-tls/`]];

/** `$ npx relaygate ARGS` and the output below it, with the page's paths made the test's. */
function commandBlock(name: string, pairs: Array<[string, string]>): { args: string[]; output: string } {
  const [first, ...rest] = substitute(name, block(name), pairs).split('\n');
  const words = shellWords(first!);
  assert.deepEqual(words.slice(0, 3), ['$', 'npx', 'relaygate'], `block ${name} starts with $ npx relaygate`);
  return { args: words.slice(3), output: rest.join('\n') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--timeout', '20', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-walkthrough-'));
  chmodSync(dir, 0o755); // the private Postfix's mail_owner reaches its directories through it
  pki = createTestPki();
  mkdirSync(join(dir, 'relaygate'));
  mkdirSync(join(dir, 'postfix-tls'));
  const server = pki.serverFor('relay', 'relay.example.net');
  const client = pki.client('mail', { cn: 'mail.contoso.com', dnsNames: ['mail.contoso.com'] });
  copyFileSync(server.certPath, join(dir, 'relaygate', 'relay.example.net.pem'));
  copyFileSync(server.keyPath, join(dir, 'relaygate', 'relay.example.net.key'));
  copyFileSync(pki.ca.certPath, join(dir, 'relaygate', 'contoso-ca.pem'));
  copyFileSync(client.certPath, join(dir, 'postfix-tls', 'mail.contoso.com.pem'));
  copyFileSync(client.keyPath, join(dir, 'postfix-tls', 'mail.contoso.com.key'));
  chmodSync(join(dir, 'postfix-tls', 'mail.contoso.com.key'), 0o600);

  receiver = new SmtpReceiver();
  const sink = await receiver.start();
  const relaygateYaml = substitute('relaygate.yaml', block('relaygate.yaml'), [
    ['dataDir: /var/lib/relaygate', 'dataDir: ./data'],
    ['address: "0.0.0.0:25"', 'address: "127.0.0.1:0"'],
    ...relaygateFiles(),
  ]);
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    `${relaygateYaml}# Added by the test: the outside world is the recording server, and DNS is a closed port.
delivery:
  dns: { servers: ["127.0.0.1:9"], timeout: 1s }
  routes:
    - { domains: [fabrikam.example], host: "127.0.0.1:${sink}", tls: none }
`,
  );
  writeFileSync(join(dir, 'tenants.yaml'), block('tenants.yaml'));
  const withoutMailDomain = block('tenants.yaml').split('\n').filter((l) => !l.includes('- { domain: mail.contoso.com }'));
  assert.equal(withoutMailDomain.length, block('tenants.yaml').split('\n').length - 1, 'tenants.yaml has the mail.contoso.com line the page tells to leave out');
  writeFileSync(join(dir, 'tenants-without-mail-domain.yaml'), withoutMailDomain.join('\n'));
  for (const name of ['ndr.yaml', 'saas.yaml']) writeFileSync(join(dir, name), substitute(name, block(name), postfixFiles()));
});

after(async () => {
  // The private Postfix is stopped first and whatever failed before: no Postfix outlives the test.
  await postfix?.stop();
  await serve?.stop();
  await receiver?.stop();
  pki?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('walkthrough: relaygate side', () => {
  test('apply: the page\'s command and output', async () => {
    const { args, output } = commandBlock('apply', []);
    const r = await runRelaygate(args, dir);
    assert.equal(r.code, 0, r.stderr);
    assertLinesMatch('apply', output, r.stdout);
  });

  test('check: the NDR and the SaaS message relay through the certificate connector (exit 0)', async () => {
    for (const name of ['check-ndr', 'check-saas']) {
      const { args, output } = commandBlock(name, relaygateFiles());
      const r = await runRelaygate(args, dir);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assertLinesMatch(name, output, r.stdout);
    }
  });

  test('check: without mail.contoso.com accepted the NDR is refused with 5.7.64 (exit 1)', async () => {
    const { args, output } = commandBlock('check-ndr-without-mail-domain', []);
    const r = await runRelaygate(args, dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assertLinesMatch('check-ndr-without-mail-domain', output, r.stdout);
  });

  test('apply --dry-run of that file warns about the refusals to come (stderr), and exits 0', async () => {
    const { args, output } = commandBlock('apply-without-mail-domain', []);
    const r = await runRelaygate(args, dir);
    assert.equal(r.code, 0, r.stderr);
    assertLinesMatch('apply-without-mail-domain', output, r.stdout + r.stderr);
  });
});

describe('walkthrough: Postfix through relaygate', { skip: skipPostfix ?? false }, () => {
  let sent: ReceivedMessage[] = [];

  test('the three messages are relayed with the envelope senders of the page\'s table', async () => {
    serve = await startServe(['--config', 'relaygate.yaml'], dir, ['smtp']);
    relayPort = serve.ports.get('smtp')!;
    const postfixDir = join(dir, 'postfix');
    mkdirSync(postfixDir);
    const postfixPort = await freePort();
    const mainCf =
      substitute('main.cf', block('main.cf'), [['[relay.example.net]:25', `[127.0.0.1]:${relayPort}`], ...postfixFiles()]) +
      substitute('main.cf-private', block('main.cf-private'), [['/srv/postfix-walkthrough', postfixDir]]);
    const masterCf = substitute('master.cf-private', block('master.cf-private'), [['127.0.0.1:10025', `127.0.0.1:${postfixPort}`]]);
    postfix = await startPostfix(postfixDir, mainCf, masterCf);

    const commands = block('send')
      .split('\n')
      .filter((l) => l.startsWith('swaks '))
      .map((l) => shellWords(substitute('send', l, [['mail.contoso.com:25', `127.0.0.1:${postfixPort}`]])).slice(1));
    assert.equal(commands.length, 3, 'three messages');

    const subject = (m: ReceivedMessage) => /^Subject: (.*)$/m.exec(m.body.toString('latin1'))?.[1]?.trim();
    const find = {
      'application mail': (m: ReceivedMessage) => subject(m) === 'Invoice 1001',
      NDR: (m: ReceivedMessage) => m.recipients.some((r) => r.address === 'partner@fabrikam.example'),
      'SaaS application': (m: ReceivedMessage) => subject(m) === 'Your invoice',
    };
    // One at a time, each awaited at the recording server, so that Postfix's log has them in order.
    for (const [i, arrived] of Object.values(find).entries()) {
      const r = await swaks(commands[i]!);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /\n<- {2}250 2\.0\.0 Ok: queued as \w+\n/, r.output);
      sent.push(
        await waitFor(() => receiver.messages.find(arrived), {
          message: () => `message ${i + 1} at the recording server (${receiver.messages.length} there); Postfix's log:\n${postfix?.maillog()}\nrelaygate: ${serve?.stderr()}`,
          timeoutMs: 60_000,
          intervalMs: 100,
        }),
      );
    }
    assert.equal(receiver.messages.length, 3, 'each message arrives once');

    const rows = tableRows(block('envelopes'));
    assert.deepEqual(rows.map((r) => r[0]), Object.keys(find));
    const db = new Database(join(dir, 'data', 'relaygate.db'), { readonly: true });
    try {
      for (const [i, [name, toRelay, atDestination]] of rows.entries()) {
        const m = sent[i]!;
        const expected = new RegExp(`^${atDestination!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('HHHH', '[^=]+').replace('TT', '[^=]+')}$`);
        assert.match(m.from === '' ? '<>' : m.from, expected, `${name}: MAIL FROM at the destination`);
        const queueId = /\r\n\tid (\w+) for </.exec(m.body.toString('latin1'))?.[1];
        assert.ok(queueId, `${name}: relaygate's Received field names its queue id`);
        const decision = db
          .prepare('SELECT mail_from, tenant, connector, attribution, verdict, reply FROM decisions WHERE message_id = ?')
          .get(queueId) as Record<string, string> | undefined;
        assert.ok(decision, `${name}: relaygate recorded its relay decision`);
        assert.equal(decision.mail_from === '' ? '<>' : decision.mail_from, toRelay, `${name}: MAIL FROM from Postfix to relaygate`);
        assert.deepEqual(
          [decision.tenant, decision.connector, decision.attribution, decision.verdict, decision.reply],
          ['contoso', 'postfix', 'cert', 'relay', '250 2.1.5 Recipient OK'],
          `${name}: relayed through the certificate connector`,
        );
      }
    } finally {
      db.close();
    }
  });

  test('each carries the Received field of the page, naming the verified client certificate', () => {
    assert.equal(sent.length, 3, 'needs the messages of the previous test');
    const expected = block('received');
    const lines = expected.trimEnd().split('\n').length;
    for (const m of sent) {
      const head = m.body.toString('latin1').split('\r\n').slice(0, lines).join('\n');
      assertLinesMatch('received', expected, head);
    }
  });

  test('Postfix logs what the page shows', async () => {
    assert.ok(postfix, 'needs the Postfix of the first test');
    const expected = substitute('postfix-log', block('postfix-log'), [
      ['to relay.example.net[…]:25', `to 127.0.0.1[…]:${relayPort}`],
      ['relay=relay.example.net[…]:25', `relay=127.0.0.1[…]:${relayPort}`],
    ]);
    const wanted = expected.trimEnd().split('\n');
    // Lines in the page's order, anything between them.
    const pattern = ['…', ...wanted.flatMap((l) => [l, '…'])].join('\n');
    await waitFor(() => (postfix!.maillog().match(/status=sent/g) ?? []).length >= 3, { message: () => `three status=sent lines in Postfix's log:\n${postfix!.maillog()}`, timeoutMs: 20_000, intervalMs: 100 });
    assertLinesMatch('postfix-log', pattern, postfix.maillog());
  });
});
