import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Directory } from '../directory/model.js';
import { parseDirectoryYaml } from '../directory/yaml.js';
import type { CertificateFacts, EvaluationInput } from '../policy/types.js';
import { certificateFactsFromChain, loadTrustAnchors, readPemBundle } from '../tls/pem-chain.js';
import { RelaygateError } from '../core/errors.js';

/** The scenario file of `relaygate check` (issue 2, item 5). Other tools read this format: keep it. */
const scenarioSchema = z.strictObject({
  directory: z.string().optional(),
  at: z.union([z.string(), z.date()]).optional(),
  connection: z.strictObject({
    ip: z.string(),
    tls: z.boolean().optional(),
    certificate: z.string().optional(),
    certificateFacts: z
      .strictObject({
        names: z.array(z.string()),
        trusted: z.boolean().default(true),
        untrustedReason: z.string().optional(),
        notBefore: z.string().optional(),
        notAfter: z.string().optional(),
      })
      .optional(),
  }),
  mailFrom: z.string().nullable().default(''),
  headerFrom: z.string().nullable().optional(),
  recipients: z.array(z.string()).min(1),
});

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
}

export function loadScenarioFile(path: string, options: { ca?: string; now: Date }): LoadedScenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`${path}: ${(err as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new ScenarioError(`${path}: ${first}`);
  }
  const s = parsed.data;
  const base = dirname(resolve(path));
  const at = parseInstant(s.at, options.now, `${path}: at`);
  let certificate: CertificateFacts | null = null;
  if (s.connection.certificate) {
    const chainPath = resolve(base, s.connection.certificate);
    certificate = certificateFactsFromChain(readPemBundle(chainPath), loadTrustAnchors(options.ca), at);
  } else if (s.connection.certificateFacts) {
    certificate = { ...s.connection.certificateFacts };
  }
  const directory = s.directory ? readDirectoryFile(resolve(base, s.directory)) : null;
  return {
    directory,
    input: {
      at,
      connection: { ip: s.connection.ip, tls: s.connection.tls ?? certificate !== null, certificate },
      // In a scenario the whole message is known: no header From means the message has none.
      message: { mailFrom: s.mailFrom ?? '', recipients: s.recipients, headerFrom: s.headerFrom ?? null },
    },
  };
}

export function readDirectoryFile(path: string): Directory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${path}: ${(err as Error).message}`);
  }
  return parseDirectoryYaml(text);
}

export function parseInstant(value: string | Date | undefined, now: Date, where: string): Date {
  if (value === undefined) return now;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new ScenarioError(`${where}: not an ISO 8601 instant: ${String(value)}`);
  return d;
}
