/**
 * Clients that leave the moment DATA has begun: each sends MAIL, RCPT, DATA, a few bytes of the
 * message, and closes. The relay must finish every such transaction at once (its spool file
 * removed, its accepted recipients logged as unfinished), not hold an open body per departed
 * client until it restarts. /metrics counts them as abandoned transactions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { openSqliteStores, type SqliteStores } from '../../src/app/stores.js';
import { serve } from '../../src/app/server.js';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import { RawSmtpClient } from '../support/smtp-client.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { waitFor } from '../support/wait-for.js';

const CLIENTS = 40;
let dir: string;
let stores: SqliteStores;
let relay: Awaited<ReturnType<typeof serve>>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relaygate-data-disconnect-'));
  writeFileSync(
    join(dir, 'relaygate.yaml'),
    'hostname: relay.test\ndataDir: ./data\nlisteners:\n  - { name: plain, address: "127.0.0.1:0", tls: none }\ndelivery: { enabled: false }\nmetrics: { address: "127.0.0.1:0" }\n',
  );
  const config = loadConfig(join(dir, 'relaygate.yaml'), {});
  stores = openSqliteStores(config);
  await stores.directory.replace(
    parseDirectoryYaml('tenants:\n  - name: contoso\n    acceptedDomains: [{ domain: contoso.example }]\n    inboundConnectors:\n      - { name: servers, type: OnPremises, senderIPAddresses: [127.0.0.1/32] }\n'),
  );
  relay = await serve({ config, stores });
});

after(async () => {
  await relay?.stop();
  await stores?.close();
  rmSync(dir, { recursive: true, force: true });
});

const spoolFiles = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? spoolFiles(join(d, e.name)) : [join(d, e.name)]));

test(`${CLIENTS} clients leaving right after DATA leave no spool file and no transaction behind`, async () => {
  const port = relay.listeners[0]!.port;
  for (let i = 0; i < CLIENTS; i++) {
    const c = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    assert.match(await c.read(), /^220 /);
    await c.command('EHLO client.test');
    assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command(`RCPT TO:<r${i}@external.example>`), '250 2.1.5 Recipient OK');
    assert.match(await c.command('DATA'), /^354 /);
    c.write('From: app@contoso.example\r\nSubject: half\r\n\r\nhalf a mess');
    c.close();
  }
  const abandoned = async (): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`);
    return sampleValue(parsePrometheusText(await res.text()), 'relaygate_smtp_transactions_total', { listener: 'plain', outcome: 'abandoned' }) ?? 0;
  };
  let seen = 0;
  await waitFor(async () => (seen = await abandoned()) === CLIENTS, { message: () => `${CLIENTS} abandoned transactions (${seen} so far)`, timeoutMs: 15_000, intervalMs: 100 });
  let left: string[] = [];
  await waitFor(() => (left = spoolFiles(join(dir, 'data', 'spool'))).length === 0, { message: () => `an empty spool (${left.length} files left)`, timeoutMs: 5_000 });
  // Each departed client's accepted recipient is in the decision log, without a queued message.
  const logged = await waitFor(
    async () => {
      const rows = (await stores.decisions.list({ limit: 1000 })).filter((d) => d.recipient?.endsWith('@external.example'));
      return rows.length === CLIENTS && rows;
    },
    { message: 'every unfinished accept logged' },
  );
  assert.ok(logged.every((d) => d.messageId === null && d.verdict === 'relay'));
  assert.equal((await stores.queueAdmin.select({}, { limit: 10 })).length, 0);
  console.log(`# departed during DATA: ${CLIENTS}; transactions left open: 0; spool files left: 0`);
});
