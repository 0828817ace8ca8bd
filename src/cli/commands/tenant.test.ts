import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cliSandbox } from '../testing.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

test('tenant list, show, add and remove', async () => {
  const s = cliSandbox();
  try {
    assert.deepEqual(await s.run('tenant', 'list'), { code: 0, stdout: 'no tenants\n', stderr: '' });
    await s.run('apply', '-f', DEMO);
    assert.equal(
      (await s.run('tenant', 'list')).stdout,
      'NAME      RULE SET  REJECT DIRECT SEND  DOMAINS  CONNECTORS\n' +
        'demo      auto      false               3        2\n' +
        'fabrikam  auto      true                1        1\n',
    );
    const added = await s.run('tenant', 'add', 'contoso', '--rule-set', 'legacy', '--reject-direct-send');
    assert.deepEqual([added.code, added.stdout], [0, '+ tenant contoso\n1 change applied\n']);
    const shown = await s.run('tenant', 'show', 'contoso', '--json');
    assert.deepEqual(JSON.parse(shown.stdout), {
      name: 'contoso',
      relayRuleSet: 'legacy',
      rejectDirectSend: true,
      acceptedDomains: [],
      inboundConnectors: [],
    });
    assert.equal(
      (await s.run('tenant', 'show', 'contoso')).stdout,
      'tenants:\n  - name: contoso\n    relayRuleSet: legacy\n    rejectDirectSend: true\n    acceptedDomains: []\n    inboundConnectors: []\n',
    );
    const list = JSON.parse((await s.run('tenant', 'list', '--json')).stdout) as { name: string }[];
    assert.deepEqual(list.map((t) => t.name), ['demo', 'fabrikam', 'contoso']);
    assert.deepEqual(await s.run('tenant', 'remove', 'contoso'), { code: 0, stdout: '- tenant contoso\n1 change applied\n', stderr: '' });
  } finally {
    s.cleanup();
  }
});

test('tenant errors: missing (exit 1), existing or invalid (exit 2), nothing changed', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('tenant', 'show', 'nobody'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    assert.deepEqual(await s.run('tenant', 'remove', 'nobody'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
    assert.deepEqual(await s.run('tenant', 'add', 'Demo'), { code: 2, stdout: '', stderr: 'relaygate: tenant Demo already exists\n' });
    assert.deepEqual(await s.run('tenant', 'add', ' padded'), {
      code: 2,
      stdout: '',
      stderr: 'relaygate: invalid directory (1 problem):\n  tenant  padded: name: " padded" has surrounding blanks or control characters\n',
    });
    const badSet = await s.run('tenant', 'add', 'x', '--rule-set', '2024');
    assert.equal(badSet.code, 2);
    assert.match(badSet.stderr, /argument '2024' is invalid\. Allowed choices are auto, 2023-11, legacy\./);
    assert.equal((JSON.parse((await s.run('tenant', 'list', '--json')).stdout) as unknown[]).length, 2);
  } finally {
    s.cleanup();
  }
});

test('tenant set changes the rule set and Direct Send', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('tenant', 'set', 'demo', '--rule-set', '2023-11', '--reject-direct-send', 'true'), {
      code: 0,
      stdout: '~ tenant demo: relayRuleSet auto → 2023-11, rejectDirectSend false → true\n1 change applied\n',
      stderr: '',
    });
    assert.deepEqual(await s.run('tenant', 'set', 'demo', '--rule-set', '2023-11'), { code: 0, stdout: 'no changes\n', stderr: '' });
    assert.deepEqual(await s.run('tenant', 'set', 'demo'), {
      code: 2,
      stdout: '',
      stderr: 'relaygate: nothing to change: give --rule-set or --reject-direct-send\n',
    });
    assert.deepEqual(await s.run('tenant', 'set', 'nobody', '--rule-set', 'legacy'), { code: 1, stdout: '', stderr: 'relaygate: tenant nobody does not exist\n' });
  } finally {
    s.cleanup();
  }
});
