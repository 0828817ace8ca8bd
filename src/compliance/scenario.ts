import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { didYouMean } from '../core/did-you-mean.js';
import { fileErrorReason } from '../core/file-error.js';
import { parseIpAddress } from '../core/ip-prefix.js';
import { describeYamlError } from '../core/yaml-error.js';
import type { Directory } from '../directory/model.js';
import { DirectoryValidationError } from '../directory/validate.js';
import { parseDirectoryYaml } from '../directory/yaml.js';
import type { CertificateFacts, EvaluationInput } from '../policy/types.js';
import { certificateFactsFromChain, readPemBundle, type TrustStore } from '../tls/pem-chain.js';
import { RelaygateError } from '../core/errors.js';

/** A source address of a connection: an IPv4 or IPv6 address, not a range. */
export const sourceIpSchema = z.string().refine((v) => parseIpAddress(v) !== null, {
  error: (iss) => `expected an IPv4 or IPv6 address (no /prefix), got ${JSON.stringify(iss.input)}`,
});

const certificateFactsSchema = z.strictObject({
  names: z.array(z.string()),
  trusted: z.boolean().default(true),
  untrustedReason: z.string().optional(),
  notBefore: z.string().optional(),
  notAfter: z.string().optional(),
});

const connectionSchema = z.strictObject({
  ip: sourceIpSchema,
  tls: z.boolean().optional(),
  certificate: z.string().optional(),
  certificateFacts: certificateFactsSchema.optional(),
});

/** The scenario file of `relaygate check` (issue 2, item 5). Other tools read this format: keep it. */
const scenarioSchema = z.strictObject({
  directory: z.string().optional(),
  at: z.union([z.string(), z.date()]).optional(),
  connection: connectionSchema,
  mailFrom: z.string().nullable().default(''),
  headerFrom: z.string().nullable().optional(),
  recipients: z.array(z.string()).min(1),
});

/** The keys each object of the format allows, by its path with list indexes left out. */
const KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(scenarioSchema.shape),
  connection: Object.keys(connectionSchema.shape),
  'connection.certificateFacts': Object.keys(certificateFactsSchema.shape),
};

export class ScenarioError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'ScenarioError';
  }
}

export interface LoadedScenario {
  input: EvaluationInput;
  /** The directory named by the scenario, if it names one; otherwise the caller uses the store's. */
  directory: Directory | null;
  /** Where the CAs that judged `connection.certificate` came from; null when no chain was judged. */
  trustStore: string | null;
}

export interface ScenarioOptions {
  /** The CAs to judge `connection.certificate` against; called only when the scenario has one. */
  trust: () => TrustStore;
  now: Date;
}

export function loadScenarioFile(path: string, options: ScenarioOptions): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`scenario ${path}: ${fileErrorReason(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ScenarioError(`${path}: ${describeYamlError(err, text)}`);
    throw err;
  }
  return scenarioFromObject(raw, { ...options, where: path, base: dirname(resolve(path)) });
}

/**
 * A scenario given as an object (a parsed file, or a JSON request). `base` is the folder its file
 * names (`directory`, `connection.certificate`) are read from; null: it may name no file (the admin
 * API reads nothing from the server's disk on a caller's say), and `certificateFacts` states the
 * certificate instead.
 */
export function scenarioFromObject(raw: unknown, options: ScenarioOptions & { where: string; base: string | null }): LoadedScenario {
  const { where, base } = options;
  const parsed = scenarioSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ScenarioError(`${where}: ${parsed.error.issues.flatMap(describeIssue).join('; ')}`);
  const s = parsed.data;
  if (base === null && s.directory !== undefined) throw new ScenarioError(`${where}: directory: no file is read here; the check uses the store's directory`);
  if (base === null && s.connection.certificate !== undefined) {
    throw new ScenarioError(`${where}: connection.certificate: no file is read here; give connection.certificateFacts`);
  }
  const at = parseInstant(s.at, options.now, `${where}: at`);
  let certificate: CertificateFacts | null = null;
  let trustStore: string | null = null;
  if (s.connection.certificate && base !== null) {
    const chainPath = resolve(base, s.connection.certificate);
    const chain = readPemBundle(chainPath, 'connection.certificate');
    const trust = options.trust();
    certificate = certificateFactsFromChain(chain, trust.anchors, at);
    trustStore = trust.source;
  } else if (s.connection.certificateFacts) {
    certificate = { ...s.connection.certificateFacts };
  }
  const directory = s.directory && base !== null ? readDirectoryFile(resolve(base, s.directory), 'directory') : null;
  return {
    directory,
    trustStore,
    input: {
      at,
      connection: { ip: s.connection.ip, tls: s.connection.tls ?? certificate !== null, certificate },
      // In a scenario the whole message is known: no header From means the message has none.
      message: { mailFrom: s.mailFrom ?? '', recipients: s.recipients, headerFrom: s.headerFrom ?? null },
    },
  };
}

/** `connection.tls: expected true or false, got string "yes"`; unknown keys with the key they may have meant. */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const where = (extra: (string | number)[] = []): string => [...path, ...extra].map(String).join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const known = KEYS[path.filter((p) => typeof p === 'string').join('.')] ?? [];
    return issue.keys.map((k) => `${where([k])}: unknown key${didYouMean(k, known)}`);
  }
  if (issue.code === 'invalid_type') {
    const input = (issue as { input?: unknown }).input;
    const expected = issue.expected === 'boolean' ? 'true or false' : issue.expected;
    return [`${where()}: ${input === undefined ? 'required' : `expected ${expected}, got ${describeValue(input)}`}`];
  }
  if (issue.code === 'too_small' && issue.origin === 'array') return [`${where()}: give at least ${String(issue.minimum)}`];
  return [`${where()}: ${issue.message}`];
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A tenants.yaml named by `label` (`--directory`, a scenario's `directory` key). */
export function readDirectoryFile(path: string, label: string): Directory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${label} ${path}: ${fileErrorReason(err)}`);
  }
  try {
    return parseDirectoryYaml(text);
  } catch (err) {
    if (err instanceof DirectoryValidationError) throw new ScenarioError(`${label} ${path}: ${err.message}`);
    throw err;
  }
}

export function parseInstant(value: string | Date | undefined, now: Date, where: string): Date {
  if (value === undefined) return now;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new ScenarioError(`${where}: not an ISO 8601 instant: ${String(value)}`);
  return d;
}
