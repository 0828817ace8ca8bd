/**
 * Loads relaygate.yaml once, validates it against the schema, applies environment overrides,
 * resolves relative paths against the file's folder and freezes the result. Nothing reads
 * configuration at import time: callers pass what loadConfig returns.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseHostPort } from './units.js';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { didYouMean } from '../core/did-you-mean.js';
import { messageOf, RelaygateError } from '../core/errors.js';
import { describeYamlError } from '../core/yaml-error.js';
import { knownKeysAt } from './schema-keys.js';
import { defaultNodeId, NODE_ID, NODE_ID_RULE } from './node-id.js';
import { configSchema, type RelaygateConfig } from './schema.js';

export class ConfigError extends RelaygateError {
  constructor(
    message: string,
    /** One line per problem, each starting with the field path. */
    readonly problems: readonly string[] = [message],
  ) {
    super('invalid', message, { details: { problems } });
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_FILE = 'relaygate.yaml';

/** The built-in demo settings, used when no file is given and ./relaygate.yaml does not exist. */
export function demoSettings(): Record<string, unknown> {
  return {
    hostname: osHostname() || 'localhost',
    dataDir: './data',
    store: 'sqlite',
    listeners: [
      { name: 'smtp', address: '127.0.0.1:2525', tls: 'starttls' },
      { name: 'smtps', address: '127.0.0.1:4650', tls: 'implicit' },
    ],
    admin: { address: '127.0.0.1:8025' },
  };
}

export interface LoadOptions {
  /** Folder that `./relaygate.yaml` and the demo settings' relative paths resolve against. */
  cwd?: string;
}

export function loadConfig(path?: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): RelaygateConfig {
  const cwd = options.cwd ?? process.cwd();
  let file: string | null = null;
  let raw: unknown;
  if (path !== undefined) {
    file = resolve(cwd, path);
    if (!existsSync(file)) throw new ConfigError(`${file}: configuration file not found`);
  } else if (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) {
    file = resolve(cwd, DEFAULT_CONFIG_FILE);
  }
  if (file === null) {
    raw = demoSettings();
  } else {
    raw = readYaml(file);
    if (raw === null || raw === undefined) raw = {};
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !('hostname' in raw)) {
      raw = { ...raw, hostname: osHostname() || 'localhost' };
    }
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(describeIssue);
    const where = file ?? 'built-in settings';
    throw new ConfigError(`${where}: invalid configuration\n  ${problems.join('\n  ')}`, problems);
  }
  const base = file === null ? cwd : dirname(file);
  const c = parsed.data;
  // RELAYGATE_STORE_URL, or its older name RELAYGATE_STORE, keeps the password out of the file.
  const storeVariable = env.RELAYGATE_STORE_URL ? 'RELAYGATE_STORE_URL' : 'RELAYGATE_STORE';
  const store = env[storeVariable] || c.store;
  if (store !== 'sqlite' && !/^postgres(ql)?:\/\//.test(store)) {
    throw new ConfigError(`${storeVariable}: expected "sqlite" or a postgres:// URL`, [
      `${storeVariable}: expected "sqlite" or a postgres:// URL`,
    ]);
  }
  const dataDir = env.RELAYGATE_DATA_DIR ? resolve(cwd, env.RELAYGATE_DATA_DIR) : resolve(base, c.dataDir);
  const nodeId = env.RELAYGATE_NODE_ID || c.nodeId || defaultNodeId(dataDir);
  if (!NODE_ID.test(nodeId)) throw new ConfigError(`RELAYGATE_NODE_ID: ${NODE_ID_RULE}`, [`RELAYGATE_NODE_ID: ${NODE_ID_RULE}`]);
  const metricsToken = env.RELAYGATE_METRICS_TOKEN;
  if (c.metrics && metricsToken !== undefined && metricsToken.length < 16) {
    throw new ConfigError('RELAYGATE_METRICS_TOKEN: expected a token of at least 16 characters', ['RELAYGATE_METRICS_TOKEN: expected a token of at least 16 characters']);
  }
  const config: RelaygateConfig = {
    ...c,
    configFile: file,
    store,
    dataDir,
    nodeId,
    // RELAYGATE_METRICS_TOKEN keeps the scrape token out of the file.
    metrics: c.metrics && metricsToken ? { ...c.metrics, token: metricsToken } : c.metrics,
    tls: {
      cert: c.tls.cert === undefined ? undefined : resolve(base, c.tls.cert),
      key: c.tls.key === undefined ? undefined : resolve(base, c.tls.key),
      clientCa: c.tls.clientCa === undefined ? undefined : resolve(base, c.tls.clientCa),
    },
    admin: {
      ...c.admin,
      ...adminAddressOverride(env),
      tls: c.admin.tls === null ? null : { cert: resolve(base, c.admin.tls.cert), key: resolve(base, c.admin.tls.key) },
    },
  };
  return deepFreeze(config);
}

/** RELAYGATE_ADMIN_ADDRESS moves the admin API (a container's port; the test runner's port 0). */
function adminAddressOverride(env: NodeJS.ProcessEnv): { address: string; host: string; port: number } | Record<string, never> {
  const value = env.RELAYGATE_ADMIN_ADDRESS;
  if (!value) return {};
  const hp = parseHostPort(value);
  if (hp === null) {
    const message = `RELAYGATE_ADMIN_ADDRESS: expected "host:port" or "[ipv6]:port", got ${JSON.stringify(value)}`;
    throw new ConfigError(message, [message]);
  }
  return { address: value, ...hp };
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the configuration: ${messageOf(err)}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ConfigError(`${file}: ${describeYamlError(err, text)}`);
    throw err;
  }
}

/** `listeners[1].tls` from ['listeners', 1, 'tls']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(configSchema, issue.path);
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key${didYouMean(k, known)}`);
  }
  const where = issue.path.length === 0 ? '(top level)' : formatPath(issue.path);
  if (issue.code === 'invalid_type') {
    const got = issue.input === undefined ? 'nothing (required)' : typeof issue.input;
    return [`${where}: expected ${issue.expected}, got ${got}`];
  }
  if (issue.code === 'invalid_union') return [`${where}: expected a number or a string`];
  return [`${where}: ${issue.message}`];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
