import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { defaultNodeId } from './node-id.js';
import { ConfigError, loadConfig, parseDuration, parseHostPort, parseSize } from './index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'relaygate-config-'));
}

function writeConfig(dir: string, text: string, name = 'relaygate.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const FULL = `
hostname: relay.example.net
dataDir: ./data
store: sqlite
listeners:
  - { name: smtp,  address: "127.0.0.1:2525", tls: starttls }
  - { name: smtps, address: "127.0.0.1:4650", tls: implicit, maxMessageSize: 10MB }
  - { name: local6, address: "[::1]:2526", tls: none }
tls:
  cert: certs/server.pem
  key: certs/server.key
  clientCa: certs/client-ca.pem
proxy: { trusted: ["127.0.0.1/32", "::ffff:10.1.2.3", "2001:db8::1/48"] }
limits: { maxMessageSize: 36MB, maxRecipients: 1000, maxConnections: 1000, maxConnectionsPerIp: 50 }
delivery:
  retry: [1m, 5m, 15m, 30m, 1h]
  expireAfter: 24h
  delayNotifyAfter: 4h
  dns: { servers: ["127.0.0.1:5353"] }
  routes:
    - { domains: ["Example.COM.", "*.example.org"], host: "127.0.0.1:2526", tls: none }
    - { domains: ["example.net"], host: "mx.example.net" }
admin: { address: "127.0.0.1:8025" }
`;

function expectProblems(text: string, problems: string[]): void {
  const dir = tempDir();
  try {
    const file = writeConfig(dir, text);
    assert.throws(
      () => loadConfig(file, {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, problems);
        assert.ok(err.message.startsWith(`${file}: invalid configuration`));
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a full file parses sizes, durations, addresses and resolves paths against its folder', () => {
  const dir = tempDir();
  try {
    const c = loadConfig(writeConfig(dir, FULL), {});
    assert.equal(c.hostname, 'relay.example.net');
    assert.equal(c.dataDir, join(dir, 'data'));
    assert.equal(c.store, 'sqlite');
    assert.equal(c.configFile, join(dir, 'relaygate.yaml'));
    assert.deepEqual(c.listeners[0], { name: 'smtp', tls: 'starttls', address: '127.0.0.1:2525', host: '127.0.0.1', port: 2525 });
    assert.equal(c.listeners[1]!.maxMessageSize, 10 * 1024 * 1024);
    assert.deepEqual([c.listeners[2]!.host, c.listeners[2]!.port], ['::1', 2526]);
    assert.deepEqual(c.tls, {
      cert: join(dir, 'certs/server.pem'),
      key: join(dir, 'certs/server.key'),
      clientCa: join(dir, 'certs/client-ca.pem'),
    });
    assert.deepEqual(c.proxy.trusted, ['127.0.0.1/32', '10.1.2.3/32', '2001:db8::/48']);
    assert.equal(c.limits.maxMessageSize, 36 * 1024 * 1024);
    assert.equal(c.limits.maxRecipients, 1000);
    assert.equal(c.limits.commandTimeout, 300_000);
    assert.deepEqual(c.delivery.retry, [60_000, 300_000, 900_000, 1_800_000, 3_600_000]);
    assert.equal(c.delivery.expireAfter, 86_400_000);
    assert.equal(c.delivery.delayNotifyAfter, 14_400_000);
    assert.deepEqual(c.delivery.dns, { servers: ['127.0.0.1:5353'], timeout: 5000 });
    assert.deepEqual(c.delivery.routes, [
      { domains: ['example.com', '*.example.org'], tls: 'none', host: '127.0.0.1', port: 2526 },
      { domains: ['example.net'], tls: 'opportunistic', host: 'mx.example.net', port: 25 },
    ]);
    assert.deepEqual(c.admin, { address: '127.0.0.1:8025', host: '127.0.0.1', port: 8025, tls: null, maxAuthFailures: 10, authFailureWindow: 60_000, maxBodySize: 10 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the result is deep-frozen', () => {
  const dir = tempDir();
  try {
    const c = loadConfig(writeConfig(dir, FULL), {});
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.listeners));
    assert.ok(Object.isFrozen(c.listeners[0]));
    assert.ok(Object.isFrozen(c.delivery.retry));
    assert.throws(() => {
      (c.limits as { maxRecipients: number }).maxRecipients = 1;
    }, TypeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a path: ./relaygate.yaml when present, else the built-in demo settings', () => {
  const dir = tempDir();
  try {
    const demo = loadConfig(undefined, {}, { cwd: dir });
    assert.equal(demo.configFile, null);
    assert.equal(demo.dataDir, join(dir, 'data'));
    assert.equal(demo.store, 'sqlite');
    assert.deepEqual(
      demo.listeners.map((l) => [l.name, l.address, l.tls]),
      [
        ['smtp', '127.0.0.1:2525', 'starttls'],
        ['smtps', '127.0.0.1:4650', 'implicit'],
      ],
    );
    assert.equal(demo.admin.address, '127.0.0.1:8025');
    assert.deepEqual(demo.tls, { cert: undefined, key: undefined, clientCa: undefined });

    writeConfig(dir, 'hostname: here.example\nlisteners: [{ name: a, address: "127.0.0.1:0", tls: none }]\n');
    const local = loadConfig(undefined, {}, { cwd: dir });
    assert.equal(local.hostname, 'here.example');
    assert.equal(local.configFile, join(dir, 'relaygate.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an explicit path that does not exist is an error', () => {
  const dir = tempDir();
  try {
    assert.throws(() => loadConfig(join(dir, 'nope.yaml'), {}), {
      name: 'ConfigError',
      message: `${join(dir, 'nope.yaml')}: configuration file not found`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('environment overrides the store and the data directory', () => {
  const dir = tempDir();
  try {
    const file = writeConfig(dir, FULL);
    const c = loadConfig(file, { RELAYGATE_STORE: 'postgres://relay@db.example/relay', RELAYGATE_DATA_DIR: '/var/lib/relaygate' });
    assert.equal(c.store, 'postgres://relay@db.example/relay');
    assert.equal(c.dataDir, '/var/lib/relaygate');
    assert.throws(() => loadConfig(file, { RELAYGATE_STORE: 'mysql://x' }), {
      name: 'ConfigError',
      message: 'RELAYGATE_STORE: expected "sqlite" or a postgres:// URL',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RELAYGATE_STORE_URL names the store, before its older name RELAYGATE_STORE', () => {
  const dir = tempDir();
  try {
    const file = writeConfig(dir, FULL);
    const url = 'postgres://relay:s3cret@db.example/relay';
    assert.equal(loadConfig(file, { RELAYGATE_STORE_URL: url, RELAYGATE_STORE: 'sqlite' }).store, url);
    assert.throws(() => loadConfig(file, { RELAYGATE_STORE_URL: 'mysql://relay:s3cret@db.example/relay' }), {
      name: 'ConfigError',
      message: 'RELAYGATE_STORE_URL: expected "sqlite" or a postgres:// URL',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the PostgreSQL session settings have defaults and are validated', () => {
  const dir = tempDir();
  try {
    const defaults = loadConfig(writeConfig(dir, 'hostname: relay.example.net\n'), {});
    assert.deepEqual(defaults.postgres, { poolSize: 10, statementTimeout: 30_000, idleInTransactionTimeout: 60_000 });
    const set = loadConfig(writeConfig(dir, 'hostname: relay.example.net\npostgres: { poolSize: 4, statementTimeout: 5s, idleInTransactionTimeout: 0 }\n'), {});
    assert.deepEqual(set.postgres, { poolSize: 4, statementTimeout: 5_000, idleInTransactionTimeout: 0 });
    expectProblems('hostname: relay.example.net\npostgres: { poolSize: 0, statementTimeout: soon }\n', [
      'postgres.poolSize: expected a positive integer',
      'postgres.statementTimeout: expected a duration such as 30s, 1m, 24h or a number of milliseconds, got "soon"',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every problem is reported with its field path', () => {
  expectProblems(
    `
hostname: relay.example.net
store: mysql
listeners:
  - { name: smtp,  address: "127.0.0.1:2525", tls: starttls }
  - { name: smtps, address: "[::1]:4650", tls: tls, maxMessageSize: huge }
  - { name: smtp, address: "1.2.3.4", tls: none }
proxy: { trusted: ["1.2.3.4.5"] }
limits: { maxRecipients: 0, maxMesageSize: 1MB }
delivery:
  retry: [1m, 1y]
  routes: [{ domains: ["bad..domain"], host: "127.0.0.1:99999", tls: maybe }]
admin: { address: 8025 }
`,
    [
      'store: expected "sqlite" or a postgres:// URL',
      'listeners[1].tls: expected one of starttls|implicit|none, got "tls"',
      'listeners[1].maxMessageSize: expected a size such as 36MB, 512KB or a number of bytes, got "huge"',
      'listeners[2].address: expected "host:port" or "[ipv6]:port", got "1.2.3.4"',
      'proxy.trusted[0]: "1.2.3.4.5" is not an IP address or CIDR range',
      'limits.maxRecipients: expected a positive integer',
      'limits.maxMesageSize: unknown key (did you mean maxMessageSize?)',
      'delivery.retry[1]: expected a duration such as 30s, 1m, 24h or a number of milliseconds, got "1y"',
      'delivery.routes[0].domains[0]: "bad..domain" is not a domain or "*.domain"',
      'delivery.routes[0].host: expected "host" or "host:port", got "127.0.0.1:99999"',
      'delivery.routes[0].tls: expected one of none|opportunistic|required|verify, got "maybe"',
      'admin.address: expected string, got number',
    ],
  );
});

test('duplicate listener names, an empty listener list and unknown top-level keys are reported', () => {
  expectProblems(
    'hostname: h\nlisteners:\n  - { name: a, address: "127.0.0.1:1", tls: none }\n  - { name: a, address: "127.0.0.1:2", tls: none }\n',
    ['listeners[1].name: duplicate listener name "a"'],
  );
  expectProblems('hostname: h\nlistener: []\n', ['listener: unknown key (did you mean listeners?)']);
  expectProblems('hostname: h\ndelivery: { retries: [1m] }\n', ['delivery.retries: unknown key (did you mean retry?)']);
  expectProblems('hostname: h\nlisteners: [{ name: a, address: "127.0.0.1:1", tsl: none }]\n', ['listeners[0].tsl: unknown key (did you mean tls?)']);
  expectProblems('hostname: h\nbogus: 1\n', ['bogus: unknown key']);
  expectProblems('hostname: h\nlisteners: []\n', ['listeners: at least one listener is required']);
});

test('a file that is not YAML names the file and shows the offending line', () => {
  const dir = tempDir();
  try {
    const file = writeConfig(dir, 'listeners: [unclosed\n');
    assert.throws(() => loadConfig(file, {}), {
      name: 'ConfigError',
      message: `${file}: not valid YAML (line 2, column 1): Flow sequence in block collection must be sufficiently indented and end with a ]\n    > 1 | listeners: [unclosed`,
    });
    const indented = writeConfig(dir, 'hostname: h\ndelivery:\n  retry: [1m]\n   expireAfter: 1h\n');
    assert.throws(() => loadConfig(indented, {}), {
      name: 'ConfigError',
      message: `${indented}: not valid YAML (line 4, column 1): All mapping items must start at the same column\n      3 |   retry: [1m]\n    > 4 |    expireAfter: 1h`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('units: sizes, durations and host:port', () => {
  assert.equal(parseSize('36MB'), 37_748_736);
  assert.equal(parseSize('10KB'), 10_240);
  assert.equal(parseSize('10 kb'), 10_240);
  assert.equal(parseSize(512), 512);
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize('1.5KB'), 1536);
  assert.equal(parseSize('12XB'), null);
  assert.equal(parseSize(-1), null);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('soon'), null);
  assert.deepEqual(parseHostPort('[::1]:25'), { host: '::1', port: 25 });
  assert.deepEqual(parseHostPort('relay.example:2525'), { host: 'relay.example', port: 2525 });
  assert.equal(parseHostPort('::1:25'), null);
  assert.equal(parseHostPort('[nope]:25'), null);
  assert.equal(parseHostPort('host:65536'), null);
});

test('listeners default to ports 25, 587 and 465; a listener without tls gets implicit TLS on 465, STARTTLS elsewhere', () => {
  const dir = tempDir();
  try {
    const none = loadConfig(writeConfig(dir, 'hostname: relay.example.net\n', 'none.yaml'), {});
    assert.deepEqual(
      none.listeners.map((l) => [l.name, l.host, l.port, l.tls]),
      [
        ['smtp', '0.0.0.0', 25, 'starttls'],
        ['submission', '0.0.0.0', 587, 'starttls'],
        ['smtps', '0.0.0.0', 465, 'implicit'],
      ],
    );
    const some = loadConfig(
      writeConfig(dir, 'hostname: relay.example.net\nlisteners:\n  - { name: a, address: "127.0.0.1:465" }\n  - { name: b, address: "127.0.0.1:2525" }\n  - { name: c, address: "127.0.0.1:2526", tls: none }\n', 'some.yaml'),
      {},
    );
    assert.deepEqual(some.listeners.map((l) => l.tls), ['implicit', 'starttls', 'none']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the connection-protection limits have defaults and refuse values out of range', () => {
  const dir = tempDir();
  try {
    const c = loadConfig(writeConfig(dir, 'hostname: h\n'), {});
    const l = c.limits;
    assert.deepEqual(
      [l.maxConnectionsPerNetwork, l.networkPrefixV4, l.networkPrefixV6, l.reservedShare, l.pressureThreshold],
      [100, 24, 64, 0.2, 0.7],
    );
    assert.deepEqual([l.commandDeadline, l.dataDeadline, l.pressureCommandTimeout, l.pressureDataTimeout], [600_000, 1_800_000, 10_000, 120_000]);
    const set = loadConfig(writeConfig(dir, 'hostname: h\nlimits: { reservedShare: 0, pressureThreshold: 1, commandDeadline: 2m, pressureDataTimeout: 30s }\n'), {});
    assert.deepEqual([set.limits.reservedShare, set.limits.pressureThreshold, set.limits.commandDeadline, set.limits.pressureDataTimeout], [0, 1, 120_000, 30_000]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expectProblems('hostname: h\nlimits: { reservedShare: 1, pressureThreshold: 0, networkPrefixV4: 33, networkPrefixV6: 0, maxConnectionsPerNetwork: 0, pressureCommandTimeout: soon }\n', [
    'limits.maxConnectionsPerNetwork: expected a positive integer',
    'limits.networkPrefixV4: expected a prefix length from 1 to 32',
    'limits.networkPrefixV6: expected a prefix length from 1 to 128',
    'limits.reservedShare: expected a fraction >= 0 and < 1 (0.2 for 20 %)',
    'limits.pressureThreshold: expected a fraction > 0 and <= 1 (0.2 for 20 %)',
    'limits.pressureCommandTimeout: expected a duration such as 30s, 1m, 24h or a number of milliseconds, got "soon"',
  ]);
});

test('loop and address hygiene settings: defaults, and a file that sets them', () => {
  const dir = tempDir();
  try {
    const defaults = loadConfig(writeConfig(dir, 'hostname: relay.example.net\n'), {});
    assert.equal(defaults.limits.maxHops, 50);
    assert.equal(defaults.limits.allowAddressLiterals, false);
    assert.equal(defaults.delivery.allowLocalAddresses, false);
    const set = loadConfig(
      writeConfig(dir, 'hostname: relay.example.net\nlimits: { maxHops: 20, allowAddressLiterals: true }\ndelivery: { allowLocalAddresses: true }\n', 'set.yaml'),
      {},
    );
    assert.equal(set.limits.maxHops, 20);
    assert.equal(set.limits.allowAddressLiterals, true);
    assert.equal(set.delivery.allowLocalAddresses, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expectProblems('hostname: relay.example.net\nlimits: { maxHops: 0 }\n', ['limits.maxHops: expected a positive integer']);
});

test('nodeId: given, or derived from the host name and the data directory (the same at every start), or RELAYGATE_NODE_ID', () => {
  const dir = tempDir();
  try {
    const derived = loadConfig(writeConfig(dir, 'hostname: relay.test\ndataDir: ./data\n'), {});
    assert.match(derived.nodeId, /^[A-Za-z0-9][A-Za-z0-9._-]{0,54}-[0-9a-f]{8}$/);
    assert.equal(loadConfig(join(dir, 'relaygate.yaml'), {}).nodeId, derived.nodeId, 'stable across starts');
    const elsewhere = loadConfig(writeConfig(dir, 'hostname: relay.test\ndataDir: ./other\n', 'other.yaml'), {});
    assert.notEqual(elsewhere.nodeId, derived.nodeId, 'another data directory is another node');
    assert.equal(defaultNodeId('/var/lib/relaygate', 'mx 1.example!'), `mx-1.example--${createHash('sha256').update('/var/lib/relaygate').digest('hex').slice(0, 8)}`);
    const named = loadConfig(writeConfig(dir, 'hostname: relay.test\nnodeId: relay-a\n', 'named.yaml'), {});
    assert.equal(named.nodeId, 'relay-a');
    assert.equal(loadConfig(join(dir, 'named.yaml'), { RELAYGATE_NODE_ID: 'relay-b' }).nodeId, 'relay-b');
    assert.throws(() => loadConfig(writeConfig(dir, 'hostname: relay.test\nnodeId: ../up\n', 'bad.yaml'), {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, ['nodeId: expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit']);
      return true;
    });
    assert.throws(() => loadConfig(join(dir, 'named.yaml'), { RELAYGATE_NODE_ID: 'a b' }), {
      name: 'ConfigError',
      message: 'RELAYGATE_NODE_ID: expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('delivery.leaseTime and delivery.pollInterval: durations with a floor', () => {
  const dir = tempDir();
  try {
    const defaults = loadConfig(writeConfig(dir, 'hostname: relay.test\n'), {});
    assert.deepEqual([defaults.delivery.leaseTime, defaults.delivery.pollInterval], [90_000, 5_000]);
    const set = loadConfig(writeConfig(dir, 'hostname: relay.test\ndelivery: { leaseTime: 2s, pollInterval: 200ms }\n', 'set.yaml'), {});
    assert.deepEqual([set.delivery.leaseTime, set.delivery.pollInterval], [2_000, 200]);
    assert.throws(() => loadConfig(writeConfig(dir, 'hostname: relay.test\ndelivery: { leaseTime: 10ms }\n', 'short.yaml'), {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, ['delivery.leaseTime: expected at least 1s']);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('admin: tls paths resolve against the file; RELAYGATE_ADMIN_ADDRESS moves the API; bad values name their field', () => {
  const dir = tempDir();
  try {
    const file = writeConfig(dir, 'admin:\n  address: "[::1]:9443"\n  tls: { cert: certs/admin.pem, key: certs/admin.key }\n  maxAuthFailures: 3\n  authFailureWindow: 2m\n  maxBodySize: 1MB\n');
    const c = loadConfig(file, {});
    assert.deepEqual(c.admin, {
      address: '[::1]:9443', host: '::1', port: 9443, maxAuthFailures: 3, authFailureWindow: 120_000, maxBodySize: 1024 * 1024,
      tls: { cert: join(dir, 'certs', 'admin.pem'), key: join(dir, 'certs', 'admin.key') },
    });
    const moved = loadConfig(file, { RELAYGATE_ADMIN_ADDRESS: '127.0.0.1:0' });
    assert.deepEqual([moved.admin.address, moved.admin.host, moved.admin.port, moved.admin.tls?.cert], ['127.0.0.1:0', '127.0.0.1', 0, join(dir, 'certs', 'admin.pem')]);
    assert.throws(() => loadConfig(file, { RELAYGATE_ADMIN_ADDRESS: 'anywhere' }), { message: 'RELAYGATE_ADMIN_ADDRESS: expected "host:port" or "[ipv6]:port", got "anywhere"' });
    const bad = writeConfig(dir, 'admin: { address: "127.0.0.1:8025", tls: { cert: a.pem } }\n', 'bad.yaml');
    assert.throws(() => loadConfig(bad, {}), (err: unknown) => err instanceof ConfigError && /admin\.tls\.key/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
