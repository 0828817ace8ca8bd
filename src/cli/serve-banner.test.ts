import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveBanner, stopSummaryText } from './serve-banner.js';

const listener = { name: 'smtp', tls: 'starttls' as const, host: '::1', port: 25 };

test('many tenants are counted, not named; an empty directory says how to fill it, with the --config in use', () => {
  const many = serveBanner({ configFile: '/etc/relaygate/relaygate.yaml', dataDir: '/var/lib/relaygate', tenants: ['a', 'b', 'c', 'd', 'e', 'f'], listeners: [listener], demo: null });
  assert.equal(
    many,
    'relaygate: configuration: /etc/relaygate/relaygate.yaml\n' +
      'relaygate: data directory: /var/lib/relaygate\n' +
      'relaygate: directory: 6 tenants\n' +
      'relaygate: listening on [::1]:25 (smtp, tls: starttls)\n',
  );
  const one = serveBanner({ configFile: '/etc/relaygate/relaygate.yaml', dataDir: '/d', tenants: ['contoso'], listeners: [listener], demo: null });
  assert.match(one, /^relaygate: directory: 1 tenant \(contoso\)$/m);
  const none = serveBanner({ configFile: "/srv/my relay/relaygate.yaml", dataDir: '/d', tenants: [], listeners: [listener], demo: null });
  assert.match(none, /^relaygate: directory: no tenants$/m);
  assert.match(none, /^relaygate: no tenants yet, so every message is refused: add them with {2}npx relaygate apply -f tenants\.yaml --config '\/srv\/my relay\/relaygate\.yaml'$/m);
});

test('the metrics line says where /metrics answers and how it is guarded', () => {
  const banner = (metrics: Parameters<typeof serveBanner>[0]['metrics']) =>
    serveBanner({ configFile: '/etc/relaygate/relaygate.yaml', dataDir: '/d', tenants: ['contoso'], listeners: [listener], demo: null, metrics });
  assert.match(banner({ host: '127.0.0.1', port: 9464, token: true, allowFrom: 0 }), /^relaygate: metrics on http:\/\/127\.0\.0\.1:9464\/metrics \(bearer token\)$/m);
  assert.match(banner({ host: '::', port: 9464, token: true, allowFrom: 2 }), /^relaygate: metrics on http:\/\/\[::\]:9464\/metrics \(bearer token, 2 allowed address ranges\)$/m);
  assert.match(banner({ host: '127.0.0.1', port: 9464, token: false, allowFrom: 0 }), /^relaygate: metrics on http:\/\/127\.0\.0\.1:9464\/metrics \(open to any client that reaches it\)$/m);
  assert.doesNotMatch(banner(null), /metrics/);
});

test('the demo without TLS files prints only the IP-connector command', () => {
  const text = serveBanner({ configFile: null, dataDir: '/d', tenants: ['demo', 'fabrikam'], listeners: [listener], demo: { tls: null } });
  assert.equal(text.split('\n').filter((l) => l.includes('swaks ')).length, 1);
  assert.doesNotMatch(text, /--tls/);
});

test('the stop summary names what was open, waiting and running', () => {
  assert.equal(
    stopSummaryText({ sessionsClosed: 0, messagesCommitted: 0, decisionsCommitted: 0, deliveryPassAwaited: false }),
    'stopped: no open sessions, nothing was waiting to be committed, no delivery in progress',
  );
  assert.equal(
    stopSummaryText({ sessionsClosed: 3, messagesCommitted: 1, decisionsCommitted: 2, deliveryPassAwaited: true }),
    'stopped: closed 3 open sessions, committed 1 message and 2 decision records that were waiting, the delivery pass in progress finished',
  );
});
