/**
 * `relaygate trace` in-process against the store a real relay wrote: a bounce over a client
 * certificate whose name is not an accepted domain gets 550 5.7.64; the admin finds it by the
 * client address and `trace show` tells why in the workflow chart's words, with the fix. And every
 * invalid input answers with its exact message and exit code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawSmtpClient } from '../../../test/support/smtp-client.js';
import { startHarness, type Harness } from '../../../test/support/relay-harness.js';
import { testDirectoryYaml } from '../../../test/support/test-directory.js';
import { createTestPki, type TestPki } from '../../../test/support/certificates.js';
import { waitFor } from '../../../test/support/wait-for.js';
import type { StoredTraceEvent } from '../../store/ports.js';
import type { TraceEventOf } from '../../trace/events.js';
import { cliSandbox, runCliCaptured, type CliResult, type CliSandbox } from '../testing.js';

const directory = `${testDirectoryYaml}
  - name: northwind
    acceptedDomains:
      - { domain: northwind.example }
    inboundConnectors:
      - { name: mail, type: OnPremises, tlsSenderCertificateName: mail.northwind-mail.example }
`;

let h: Harness;
let pki: TestPki;
let sandbox: CliSandbox;
let config: string;
let refused: TraceEventOf<'refused'> & { id: number };
let connected: TraceEventOf<'connected'> & { id: number };

const trace = (...args: string[]): Promise<CliResult> => runCliCaptured(['trace', ...args, '--config', config], { env: sandbox.env, cwd: sandbox.dir });

before(async () => {
  pki = createTestPki();
  const cert = pki.client('northwind', { cn: 'mail.northwind-mail.example', dnsNames: ['mail.northwind-mail.example'] });
  h = await startHarness({ directory, pki, listeners: [{ name: 'submission', host: '127.0.0.1', port: 0, tls: 'starttls' }] });
  sandbox = cliSandbox();
  config = join(sandbox.dir, 'relay.yaml');
  writeFileSync(config, `hostname: test.example\ndataDir: ${JSON.stringify(h.dataDir)}\nstore: sqlite\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\n`);

  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('submission'), localAddress: '127.0.0.4' });
  await c.read();
  await c.command('EHLO mail.northwind-mail.example');
  assert.equal(await c.command('STARTTLS'), '220 2.0.0 Ready to start TLS');
  await c.upgrade({ key: cert.key, cert: cert.cert });
  await c.command('EHLO mail.northwind-mail.example');
  assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<user@elsewhere.example>'), '550 5.7.64 TenantAttribution; Relay Access Denied');
  c.close();
  const events = await waitFor(
    async () => {
      await h.relay.acceptor.drain();
      const found = (await h.trace.search({ clientIp: '127.0.0.4' })).events;
      return found.some((e) => e.kind === 'refused') ? found : undefined;
    },
    { message: 'the refusal in the trace' },
  );
  refused = events.find((e): e is TraceEventOf<'refused'> & { id: number } => e.kind === 'refused')!;
  connected = events.find((e): e is TraceEventOf<'connected'> & { id: number } => e.kind === 'connected')!;
});
after(async () => {
  await h?.stop();
  pki?.cleanup();
  sandbox?.cleanup();
});

const iso = (e: StoredTraceEvent): string => new Date(e.at).toISOString();

test('trace --client-ip finds the refused bounce (550 5.7.64) and its connection, newest first', async () => {
  const r = await trace('--client-ip', '127.0.0.4');
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const session = refused.sessionId!;
  const pad = (s: string, n: number): string => s.padEnd(n);
  const w = Math.max('TRACE ID'.length, session.length);
  assert.equal(
    r.stdout,
    [
      `TIME                      EVENT      STATUS   SENDER  RECIPIENT               CLIENT IP  CONNECTOR  ${pad('TRACE ID', w)}  REPLY`,
      `${iso(refused)}  refused    Refused  <>      user@elsewhere.example  127.0.0.4  mail       ${pad(session, w)}  550 5.7.64 TenantAttribution; Relay Access Denied`,
      `${iso(connected)}  connected                                           127.0.0.4  mail       ${session}`,
      '2 events; no more.',
      '',
    ].join('\n'),
  );
});

test('trace show SESSION tells the refusal in the workflow chart words, with the fix', async () => {
  const r = await trace('show', refused.sessionId!);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const session = refused.sessionId!;
  const cert = connected.certificate!;
  assert.equal(r.stdout, `Session ${session} (tenant northwind, connector mail), 2 events from ${iso(connected)}\n\n${iso(connected)}  connected        127.0.0.4 on submission, EHLO mail.northwind-mail.example, session ${session}\n    TLS ${connected.tls!.version} ${connected.tls!.cipher}\n    client certificate CN=mail.northwind-mail.example, names mail.northwind-mail.example\n      issuer CN=Relaygate Test CA; valid ${cert.validFrom} to ${cert.validTo}\n      fingerprint ${cert.fingerprint}; trusted\n\n${iso(refused)}  refused          RCPT TO:<user@elsewhere.example>: 550 5.7.64 TenantAttribution; Relay Access Denied\n    why: Relay denied: the connection belongs to northwind, but neither a matching certificate name nor the null envelope sender <> is an accepted domain of northwind (conditions 1a and 1b fail). A2: 127.0.0.4 matches no enabled OnPremises connector. S3: mail.northwind-mail.example is not an accepted domain of northwind: add it as an accepted domain. Going on to S5. S5: The envelope sender is null (<>): condition 1b never holds for bounces and automatic replies.\n    Attributed to tenant northwind by cert (connector mail); rule set in force: 2023-11\n\n    Recipients:\n      REJECTED  user@elsewhere.example  550 5.7.64 TenantAttribution; Relay Access Denied  [now: rejected; before 2023-11-01: pending]\n                Relay denied: the connection belongs to northwind, but neither a matching certificate name nor the null envelope sender <> is an accepted domain of northwind (conditions 1a and 1b fail).\n\n    Workflow chart:\n      A1  yes     Does a trusted, valid client certificate match an enabled OnPremises connector?\n                  Certificate names mail.northwind-mail.example match northwind/mail.\n      A2  no      Does the source IP match an enabled OnPremises connector?\n                  127.0.0.4 matches no enabled OnPremises connector.\n      A3  yes     Is the connection attributed to exactly one tenant?\n                  Attributed to northwind by cert, connector mail.\n      S0  yes     Does the tenant have an enabled OnPremises connector?\n                  northwind: mail.\n      S1  yes     Does the connection match a connector by certificate (S2) or only by IP (S4)?\n                  northwind has certificate connector(s) mail (mail.northwind-mail.example) and a certificate was presented.\n      S2  yes     Is the certificate trusted and valid, with a CN/SAN matching TlsSenderCertificateName?\n                  mail.northwind-mail.example match mail.\n      S3  no      Is the matched certificate name an accepted domain?\n                  mail.northwind-mail.example is not an accepted domain of northwind: add it as an accepted domain. Going on to S5.\n      S4  skipped Is the source IP in the connector's ranges?\n                  The connector matched by certificate.\n      S5  no      Is the envelope sender (P1) domain accepted?\n                  The envelope sender is null (<>): condition 1b never holds for bounces and automatic replies.\n      S6  skipped Is the header From (P2) domain accepted? (counted only before 2023-11-01)\n                  The header From is not known (no message given): under the current rules it does not count anyway.\n      Outcome: OUT-F — refused under both rule sets\n\n    Warnings:\n      - [certificate-name-not-accepted] Certificate name mail.northwind-mail.example is not an accepted domain of northwind: mail on this connector relays only when the envelope sender domain is accepted (add mail.northwind-mail.example as an accepted domain).\n\n    Remedies (in order of preference):\n      1. Use a certificate-based OnPremises connector of northwind whose TlsSenderCertificateName is an accepted domain and send with that client certificate over TLS: it passes every message, including null-sender bounces and out-of-office replies. The name must itself be an accepted domain: a certificate for mail.northwind.example needs mail.northwind.example added as an accepted domain of northwind, one for northwind.example works as it is.\n      2. Add the certificate host name mail.northwind-mail.example as an accepted domain of northwind.\n      3. Null-sender mail (bounces, automatic replies) relays only over a certificate connector whose certificate name is an accepted domain; for other mail, make the application use an envelope sender (MAIL FROM) in an accepted domain of northwind.\n`);
});

test('trace --json and --csv carry Exchange Online column names, and the next cursor', async () => {
  const json = await trace('--client-ip', '127.0.0.4', '--status', 'refused', '--json');
  assert.equal(json.code, 0);
  const doc = JSON.parse(json.stdout) as { events: Array<Record<string, unknown>>; next: string | null };
  assert.equal(doc.next, null);
  assert.deepEqual(doc.events, [
    {
      origin_timestamp: iso(refused), event: 'refused', status: 'Refused', sender_address: '', recipient_address: 'user@elsewhere.example',
      recipient_status: 'user@elsewhere.example##Refused', message_id: null, message_trace_id: refused.sessionId, queue_id: null, session_id: refused.sessionId,
      tenant: 'northwind', tenant_id: refused.tenantId, original_client_ip: '127.0.0.4', connector_id: 'mail', certificate_name: 'mail.northwind-mail.example',
      return_path: '', message_subject: null, total_bytes: null, reason: 'nobody', rule_set: '2023-11',
      reply: '550 5.7.64 TenantAttribution; Relay Access Denied', detail: refused.detail, event_id: refused.id,
    },
  ]);
  const page = await trace('--client-ip', '127.0.0.4', '--limit', '1', '--csv');
  assert.equal(page.code, 0);
  const cursor = `${refused.at}.${refused.id}`;
  assert.equal(page.stderr, `relaygate: more events: add --cursor ${cursor}\n`);
  const [header, record, end] = page.stdout.split('\r\n');
  assert.equal(
    header,
    'origin_timestamp,event,status,sender_address,recipient_address,recipient_status,message_id,message_trace_id,queue_id,session_id,tenant,tenant_id,original_client_ip,connector_id,certificate_name,return_path,message_subject,total_bytes,reason,rule_set,reply,detail,event_id',
  );
  assert.ok(record!.startsWith(`${iso(refused)},refused,Refused,,user@elsewhere.example,user@elsewhere.example##Refused,,${refused.sessionId},`), record);
  assert.equal(end, '');
  const next = await trace('--client-ip', '127.0.0.4', '--limit', '1', '--cursor', cursor);
  assert.equal(next.code, 0);
  assert.match(next.stdout, new RegExp(`^TIME .*\\n${iso(connected)}  connected .*\\n1 event; no more\\.\\n$`));
});

test('trace: every invalid input is refused with its message and exit code, before anything is searched', async () => {
  const cases: Array<[args: string[], code: number, stderr: string]> = [
    [['--status', 'Bounced'], 2, 'relaygate: "Bounced" is not a trace status (Delivered, Failed, Pending, Expanded, Refused, Deferred)\n'],
    [['--event', 'sent'], 2, 'relaygate: "sent" is not a trace event (connected, refused, received, queued, attempt, deferred, delivered, failed, expired, dsn-queued, held, released, operator-bounced, deleted, srs-returned)\n'],
    [['--client-ip', '999.1.1.1'], 2, 'relaygate: "999.1.1.1" is not an IP address\n'],
    [['--recipient', 'a b@'], 2, 'relaygate: "a b@" is neither an address nor a domain (alice@contoso.com, @contoso.com, contoso.com)\n'],
    [['--sender', '@-bad-.example'], 2, 'relaygate: "@-bad-.example" is neither an address nor a domain (alice@contoso.com, @contoso.com, contoso.com)\n'],
    [['--since', '2h', '--start', '2026-11-01'], 2, 'relaygate: give either since or start, not both\n'],
    [['--since', 'yesterday'], 2, 'relaygate: since "yesterday" is not a duration (30d, 12h, 90m, 2w) or an ISO 8601 date or instant (2026-11-01, 2026-11-01T08:00:00Z)\n'],
    [['--start', '2026-11-02', '--end', '2026-11-01'], 2, 'relaygate: the range is empty: end 2026-11-01T00:00:00.000Z is not after its start 2026-11-02T00:00:00.000Z\n'],
    [['--end', '2026-13-45'], 2, 'relaygate: end "2026-13-45" is not an ISO 8601 date or instant (2026-11-01, 2026-11-01T08:00:00Z)\n'],
    [['--limit', '0'], 2, 'relaygate: the page size (limit) must be a whole number from 1 to 10,000, not 0\n'],
    [['--limit', '10001'], 2, 'relaygate: the page size (limit) must be a whole number from 1 to 10,000, not 10001\n'],
    [['--limit', 'many'], 2, "error: option '--limit <n>' argument 'many' is invalid. not a whole number.\n"],
    [['--cursor', 'page2'], 2, 'relaygate: "page2" is not a trace cursor (give the next cursor a previous page printed)\n'],
    [['--rule-set', 'strict'], 2, 'relaygate: "strict" is not a rule set (2023-11, legacy)\n'],
    [['--certificate-name', 'not a name'], 2, 'relaygate: "not a name" is not a certificate name (a host name such as mail.contoso.com)\n'],
    [['--queue-id', 'x;drop'], 2, 'relaygate: "x;drop" is not a queue id\n'],
    [['--tenant', 'nosuch'], 1, 'relaygate: tenant nosuch does not exist\n'],
    [['--json', '--csv'], 2, 'relaygate: give either --json or --csv, not both\n'],
    [['show', 'nosuch0000'], 1, 'relaygate: nothing is recorded in the trace for nosuch0000 (a queue id or a session id, as the search prints them)\n'],
    [['show', '../etc'], 2, 'relaygate: "../etc" is not a trace id\n'],
    [['show', refused.sessionId!, '--csv'], 2, 'relaygate: trace show prints text or --json, not --csv\n'],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await trace(...args);
    assert.deepEqual([r.code, r.stderr, r.stdout], [code, stderr, ''], args.join(' '));
  }
});
