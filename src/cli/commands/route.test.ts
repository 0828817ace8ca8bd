import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSandbox, type CliSandbox } from '../testing.js';
import { openSqlite } from '../../store/sqlite/database.js';
import { selectRoute, type Route } from '../../delivery/routing.js';
import { tenantSettingsAt } from '../../../test/support/tenant-settings.js';
import { createTestPki } from '../../../test/support/certificates.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo/tenants.yaml', import.meta.url));

/** What delivery reads for `tenant`: its routes in the tenant settings snapshot of the store the CLI wrote. */
async function storedRoutes(s: CliSandbox, tenant: string): Promise<readonly Route[]> {
  const settings = await tenantSettingsAt(join(s.dir, 'data', 'relaygate.db'));
  const id = settings.tenantId(tenant);
  return id === null ? [] : settings.routesOf(id);
}

test('route add, list and remove; delivery reads what was added, secrets are never printed', async () => {
  const s = cliSandbox();
  const pki = createTestPki();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('route', 'list'), { code: 0, stdout: 'no outbound routes\n', stderr: '' });

    assert.deepEqual(
      await s.run('route', 'add', 'Demo', '--domain', 'Partner.Example.', '--domain', '*.partner.example', '--domain', 'partner.example',
        '--host', 'SMTP.Partner.Example:587', '--tls', 'required', '--auth-user', 'relay-user', '--auth-pass', 's3cret'),
      { code: 0, stdout: '+ route 1 of tenant demo: partner.example, *.partner.example → smtp.partner.example:587 (tls required, auth relay-user)\n', stderr: '' },
    );
    const client = pki.client('relay', { cn: 'relay.demo.example' });
    assert.deepEqual(
      await s.run('route', 'add', 'demo', '--domain', '*', '--host', '::1', '--tls', 'verify', '--client-cert', client.certPath, '--client-key', client.keyPath),
      { code: 0, stdout: '+ route 2 of tenant demo: * → [::1]:25 (tls verify, client certificate)\n', stderr: '' },
    );
    assert.deepEqual(await s.run('route', 'add', 'fabrikam', '--domain', 'contoso.example', '--host', '[::1]:2525', '--tls', 'none'), {
      code: 0, stdout: '+ route 3 of tenant fabrikam: contoso.example → [::1]:2525 (tls none)\n', stderr: '',
    });

    assert.deepEqual(await s.run('route', 'list'), {
      code: 0,
      stdout:
        'TENANT    ID  DOMAINS                            HOST                      TLS       AUTH USER   CLIENT CERT\n' +
        'demo      1   partner.example,*.partner.example  smtp.partner.example:587  required  relay-user  -\n' +
        'demo      2   *                                  [::1]:25                  verify    -           yes\n' +
        'fabrikam  3   contoso.example                    [::1]:2525                none      -           -\n',
      stderr: '',
    });
    const listed = await s.run('route', 'list', '--tenant', 'DEMO', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('s3cret') && !listed.stdout.includes('PRIVATE KEY'), listed.stdout);
    const routes = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(routes[0], {
      id: 1, tenant: 'demo', domains: ['partner.example', '*.partner.example'], host: 'smtp.partner.example', port: 587, tls: 'required', authUser: 'relay-user', clientCert: null,
    });
    const cert = routes[1]?.clientCert as { subject: string; validTo: string };
    assert.match(cert.subject, /CN=relay\.demo\.example/);
    assert.match(cert.validTo, /^\d{4}-\d\d-\d\dT/);
    assert.equal(routes.length, 2);

    const stored = await storedRoutes(s, 'demo');
    assert.deepEqual(stored[0], {
      domains: ['partner.example', '*.partner.example'], host: 'smtp.partner.example', port: 587, tls: 'required',
      auth: { user: 'relay-user', pass: 's3cret' }, clientCert: null,
    });
    assert.deepEqual(stored[1]?.clientCert, { cert: client.cert, key: client.key });
    const routing = { serverRoutes: [], tenantRoutes: { routesFor: () => stored } };
    assert.equal(selectRoute(routing, 'demo', 'mx.partner.example')?.port, 587);
    assert.equal(selectRoute(routing, 'demo', 'elsewhere.example')?.host, '::1');

    assert.deepEqual(await s.run('route', 'remove', 'demo', '1'), {
      code: 0, stdout: '- route 1 of tenant demo: partner.example, *.partner.example → smtp.partner.example:587 (tls required, auth relay-user)\n', stderr: '',
    });
    assert.deepEqual((await storedRoutes(s, 'demo')).map((r) => r.host), ['::1']);
    const removed = await s.run('route', 'remove', 'fabrikam', '3', '--json');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((JSON.parse(removed.stdout) as { id: number }).id, 3);
    assert.deepEqual(await s.run('route', 'list', '--tenant', 'fabrikam'), { code: 0, stdout: 'no outbound routes\n', stderr: '' });
  } finally {
    pki.cleanup();
    s.cleanup();
  }
});

test('route add warns when an AUTH password may travel without TLS', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.deepEqual(await s.run('route', 'add', 'demo', '--domain', 'x.example', '--host', 'smtp.x.example', '--auth-user', 'u', '--auth-pass', 'p'), {
      code: 0,
      stdout: '+ route 1 of tenant demo: x.example → smtp.x.example:25 (tls opportunistic, auth u)\n',
      stderr: 'relaygate: warning: with --tls opportunistic the AUTH password can cross the network in clear; --tls required or verify prevents that\n',
    });
  } finally {
    s.cleanup();
  }
});

test('route errors: unknown tenant or route (exit 1), invalid values (exit 2 naming the option); nothing is stored', async () => {
  const s = cliSandbox();
  const pki = createTestPki();
  try {
    await s.run('apply', '-f', DEMO);
    const fail = async (code: number, stderr: string, ...args: string[]): Promise<void> => {
      assert.deepEqual(await s.run('route', ...args), { code, stdout: '', stderr }, args.join(' '));
    };
    await fail(1, 'relaygate: tenant nobody does not exist\n', 'add', 'nobody', '--domain', 'x.example', '--host', 'h.example');
    await fail(1, 'relaygate: tenant nobody does not exist\n', 'list', '--tenant', 'nobody');
    await fail(1, 'relaygate: route 9 of tenant demo does not exist\n', 'remove', 'demo', '9');
    await fail(2, 'relaygate: ROUTE-ID: expected a route id from "relaygate route list", got "x"\n', 'remove', 'demo', 'x');
    await fail(2, 'relaygate: ROUTE-ID: expected a route id from "relaygate route list", got "0"\n', 'remove', 'demo', '0');
    await fail(2, 'relaygate: --domain: "bad..example" is not a domain, "*.domain" or "*"\n', 'add', 'demo', '--domain', 'x.example', '--domain', 'bad..example', '--host', 'h.example');
    await fail(2, 'relaygate: --domain: "*example" is not a domain, "*.domain" or "*"\n', 'add', 'demo', '--domain', '*example', '--host', 'h.example');
    await fail(2, 'error: required option \'--domain <domain>\' not specified\n', 'add', 'demo', '--host', 'h.example');
    for (const host of ['h.example:0', 'h.example:65536', 'bad_host', '[h.example]:25', '::1:25:x']) {
      await fail(2, `relaygate: --host: expected "host", "host:port" or "[ipv6]:port" with a port from 1 to 65535, got ${JSON.stringify(host)}\n`, 'add', 'demo', '--domain', 'x.example', '--host', host);
    }
    await fail(2, "error: option '--tls <mode>' argument 'starttls' is invalid. Allowed choices are none, opportunistic, required, verify.\n",
      'add', 'demo', '--domain', 'x.example', '--host', 'h.example', '--tls', 'starttls');
    await fail(2, 'relaygate: --auth-user and --auth-pass go together: give both or neither\n', 'add', 'demo', '--domain', 'x.example', '--host', 'h.example', '--auth-pass', 'p');
    await fail(2, 'relaygate: --auth-user: the user name is empty\n', 'add', 'demo', '--domain', 'x.example', '--host', 'h.example', '--auth-user', '', '--auth-pass', 'p');

    const client = pki.client('relay', { cn: 'relay.demo.example' });
    const other = pki.client('other', { cn: 'other.demo.example' });
    const notPem = join(s.dir, 'not.pem');
    writeFileSync(notPem, 'hello\n');
    const missing = join(s.dir, 'missing.pem');
    const withCert = (cert: string, key: string): string[] => ['add', 'demo', '--domain', 'x.example', '--host', 'h.example', '--client-cert', cert, '--client-key', key];
    await fail(2, 'relaygate: --client-cert and --client-key go together: give both or neither\n', 'add', 'demo', '--domain', 'x.example', '--host', 'h.example', '--client-cert', client.certPath);
    await fail(2, `relaygate: --client-cert: cannot read ${missing} (ENOENT)\n`, ...withCert(missing, client.keyPath));
    await fail(2, `relaygate: --client-key: cannot read ${missing} (ENOENT)\n`, ...withCert(client.certPath, missing));
    await fail(2, `relaygate: --client-cert: ${notPem} holds no PEM certificate\n`, ...withCert(notPem, client.keyPath));
    await fail(2, `relaygate: --client-key: ${notPem} holds no unencrypted PEM private key\n`, ...withCert(client.certPath, notPem));
    await fail(2, `relaygate: --client-key: ${other.keyPath} is not the key of the certificate in ${client.certPath}\n`, ...withCert(client.certPath, other.keyPath));

    assert.deepEqual(await s.run('route', 'list'), { code: 0, stdout: 'no outbound routes\n', stderr: '' });
    // A second route for a domain would never be used (routing takes the older one): refused.
    assert.equal((await s.run('route', 'add', 'demo', '--domain', 'x.example', '--domain', '*.x.example', '--host', 'h.example')).code, 0);
    await fail(2, 'relaygate: --domain: *.x.example already has route 1 of tenant demo; remove that route first\n', 'add', 'demo', '--domain', 'y.example', '--domain', '*.x.example', '--host', 'g.example');
    assert.equal((await s.run('route', 'add', 'fabrikam', '--domain', 'x.example', '--host', 'g.example')).code, 0, 'another tenant may route the same domain');
    await fail(1, 'relaygate: route 1 of tenant fabrikam does not exist\n', 'remove', 'fabrikam', '1');
    assert.deepEqual((await storedRoutes(s, 'demo')).map((r) => r.domains), [['x.example', '*.x.example']]);
  } finally {
    pki.cleanup();
    s.cleanup();
  }
});

test('removing a tenant removes its routes; a new tenant of the same name starts without them', async () => {
  const s = cliSandbox();
  try {
    await s.run('apply', '-f', DEMO);
    assert.equal((await s.run('route', 'add', 'fabrikam', '--domain', 'x.example', '--host', 'h.example')).code, 0);
    assert.equal((await s.run('route', 'add', 'demo', '--domain', 'y.example', '--host', 'h.example')).code, 0);
    assert.equal((await s.run('tenant', 'remove', 'fabrikam')).code, 0);
    assert.deepEqual(await s.run('route', 'list', '--tenant', 'fabrikam'), { code: 1, stdout: '', stderr: 'relaygate: tenant fabrikam does not exist\n' });
    assert.deepEqual(await s.run('route', 'remove', 'fabrikam', '1'), { code: 1, stdout: '', stderr: 'relaygate: tenant fabrikam does not exist\n' });
    assert.equal((await s.run('route', 'list')).stdout,
      'TENANT  ID  DOMAINS    HOST          TLS            AUTH USER  CLIENT CERT\ndemo    2   y.example  h.example:25  opportunistic  -          -\n');
    const db = openSqlite(join(s.dir, 'data', 'relaygate.db'));
    try {
      assert.deepEqual(db.prepare('SELECT id FROM outbound_routes ORDER BY id').all(), [{ id: 2 }], 'no row left behind');
    } finally {
      db.close();
    }
    assert.equal((await s.run('tenant', 'add', 'fabrikam')).code, 0);
    assert.deepEqual(await s.run('route', 'list', '--tenant', 'fabrikam'), { code: 0, stdout: 'no outbound routes\n', stderr: '' });
  } finally {
    s.cleanup();
  }
});
