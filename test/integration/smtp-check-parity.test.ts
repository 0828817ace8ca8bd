/** `relaygate check` and the live server give the same reply for the same facts. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawSmtpClient } from '../support/smtp-client.js';
import { startHarness, type Harness } from '../support/relay-harness.js';
import { runRelaygate } from '../support/relaygate-process.js';
import { testDirectoryYaml } from '../support/test-directory.js';

let h: Harness;
let dir: string;
before(async () => {
  h = await startHarness({ directory: testDirectoryYaml });
  dir = mkdtempSync(join(tmpdir(), 'relaygate-parity-'));
  writeFileSync(join(dir, 'tenants.yaml'), testDirectoryYaml);
});
after(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

const scenarios = [
  { ip: '127.0.0.1', mailFrom: 'app@contoso.example', recipients: ['a@elsewhere.example', 'info@contoso.example', 'x!y@contoso.example'] },
  { ip: '127.0.0.1', mailFrom: '', recipients: ['a@elsewhere.example', 'info@fabrikam.example'] },
  { ip: '127.0.0.4', mailFrom: 'ceo@fabrikam.example', recipients: ['info@fabrikam.example', 'user@[192.0.2.1]'] },
  { ip: '127.0.0.3', mailFrom: 'printer@devices.example', recipients: ['office@elsewhere.example', 'a@b@c', 'user', '"a@b"@contoso.example', '@contoso.example:u@elsewhere.example'] },
  // Quoted local parts are valid (relay-policy.md §5 refuses only those holding @, % or !), blanks, brackets and escapes included.
  {
    ip: '127.0.0.4',
    mailFrom: 'someone@elsewhere.example',
    recipients: ['"john doe"@contoso.example', '"a<b>c"@contoso.example', '"a\\"b"@contoso.example', '"x y"@elsewhere.example', '"a%b c"@contoso.example', '@relay.example:"john doe"@contoso.example'],
  },
  { ip: '127.0.0.1', mailFrom: '"john doe"@contoso.example', recipients: ['a@elsewhere.example', '"a<b>c"@fabrikam.example'] },
];

for (const [i, s] of scenarios.entries()) {
  test(`same verdicts from check and the live server: ${s.ip} <${s.mailFrom}>`, async () => {
    const file = join(dir, `s${i}.yaml`);
    writeFileSync(file, `directory: tenants.yaml\nconnection: { ip: ${s.ip} }\nmailFrom: ${JSON.stringify(s.mailFrom)}\nrecipients: ${JSON.stringify(s.recipients)}\n`);
    const checked = await runRelaygate(['check', '--json', file], dir);
    const expected = (JSON.parse(checked.stdout) as { recipients: Array<{ reply: string }> }).recipients.map((r) => r.reply);

    const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp'), localAddress: s.ip });
    await c.read();
    await c.command('EHLO parity.example');
    assert.equal(await c.command(`MAIL FROM:<${s.mailFrom}>`), '250 2.1.0 Sender OK');
    const live: string[] = [];
    for (const r of s.recipients) live.push(await c.command(`RCPT TO:<${r}>`));
    c.close();
    assert.deepEqual(live, expected);
  });
}

test('a quoted local part keeps its parameters, and one with a control character is malformed', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp') });
  await c.read();
  await c.command('EHLO parity.example');
  assert.equal(await c.command('MAIL FROM:<"john doe"@contoso.example> SIZE=100'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<"jane doe"@elsewhere.example> NOTIFY=BOGUS'), '501 5.5.4 Error: NOTIFY parameter must be NEVER, SUCCESS, FAILURE, or DELAY');
  assert.equal(await c.command('RCPT TO:<"jane doe"@elsewhere.example> NOTIFY=NEVER'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('RCPT TO:<"jane\x01doe"@elsewhere.example>'), '501 5.1.3 Invalid recipient address');
  assert.equal(await c.command('RCPT TO:<"unterminated@elsewhere.example>'), '501 5.1.3 Invalid recipient address');
  // The byte-level checks read the whole path, past a `>` inside the quotes: invalid UTF-8 there is still malformed.
  c.write(Buffer.concat([Buffer.from('RCPT TO:<"a<b>'), Buffer.from([0xff]), Buffer.from('c"@contoso.example>\r\n')]));
  assert.equal(await c.read(), '501 5.1.3 Invalid recipient address');
  c.close();
});

test('a malformed MAIL FROM gets the engine\'s reply, whichever parser saw it first', async () => {
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: h.port('smtp') });
  await c.read();
  await c.command('EHLO parity.example');
  assert.equal(await c.command('MAIL FROM:<a@b@c>'), '501 5.1.7 Invalid sender address');
  assert.equal(await c.command('MAIL FROM:<a b>'), '501 5.1.7 Invalid sender address');
  c.close();
});

test('address literals: check and the live server agree, with limits.allowAddressLiterals off (default) and on', async () => {
  const allowing = await startHarness({ directory: testDirectoryYaml, limits: { allowAddressLiterals: true } });
  try {
    writeFileSync(join(dir, 'allow-literals.yaml'), 'hostname: parity.example\nlimits: { allowAddressLiterals: true }\n');
    const recipients = ['user@[127.0.0.1]', 'user@[IPv6:::1]', 'a@elsewhere.example'];
    const file = join(dir, 'literals.yaml');
    writeFileSync(file, `directory: tenants.yaml\nconnection: { ip: 127.0.0.1 }\nmailFrom: "app@contoso.example"\nrecipients: ${JSON.stringify(recipients)}\n`);
    const replies = async (args: string[]): Promise<string[]> =>
      (JSON.parse((await runRelaygate(['check', '--json', ...args, file], dir)).stdout) as { recipients: Array<{ reply: string }> }).recipients.map((r) => r.reply);
    const live = async (harness: Harness): Promise<string[]> => {
      const c = await RawSmtpClient.connect({ host: '127.0.0.1', port: harness.port('smtp') });
      await c.read();
      await c.command('EHLO parity.example');
      assert.equal(await c.command('MAIL FROM:<app@contoso.example>'), '250 2.1.0 Sender OK');
      const out: string[] = [];
      for (const r of recipients) out.push(await c.command(`RCPT TO:<${r}>`));
      c.close();
      return out;
    };
    const refused = '550 5.1.2 Address literal recipients not accepted';
    assert.deepEqual(await live(h), [refused, refused, '250 2.1.5 Recipient OK']);
    assert.deepEqual(await replies([]), [refused, refused, '250 2.1.5 Recipient OK']);
    const ok = ['250 2.1.5 Recipient OK', '250 2.1.5 Recipient OK', '250 2.1.5 Recipient OK'];
    assert.deepEqual(await live(allowing), ok);
    assert.deepEqual(await replies(['--config', join(dir, 'allow-literals.yaml')]), ok);
  } finally {
    await allowing.stop();
  }
});
