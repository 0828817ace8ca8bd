/**
 * Golden policy scenarios: the YAML format and its loader. A file holds a `directory` (tenants in the
 * tenants.yaml shape of issue 2) and a list of `scenarios`, each with the facts of one transaction and
 * the outcome the contract (relay-policy.md) requires. Expected values are written from the contract,
 * never copied from the engine's output.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DirectoryValidationError, validateDirectory, type Directory } from '../../src/directory/index.js';
import type { CertificateFacts, EvaluationInput, SrsReturnFact } from '../../src/policy/index.js';

export interface ExpectedRecipient {
  verdict: string;
  reply: string;
  currentVerdict: string;
  legacyVerdict: string;
  tenant: string | null;
}

export interface ExpectedTransaction {
  tenant: string | null;
  /** The attributing connector; checked only when the scenario names it. */
  connector?: string | null;
  attribution: string;
  ruleSet: string;
  mailFromReply: string | null;
  /** The chart path: step ids with answers, skipped steps left out (`A1=no A2=yes ... S5=yes`). */
  chart: string;
  /** Warning codes, compared as a sorted set. */
  warnings: string[];
  /** Remedy ranks, in the engine's order. */
  remedies: number[];
  tiedTenants: string[];
  recipients: ExpectedRecipient[];
}

export interface Scenario {
  file: string;
  name: string;
  input: EvaluationInput;
  expected: ExpectedTransaction;
}

export interface ScenarioFile {
  file: string;
  directory: Directory;
  scenarios: Scenario[];
}

type Raw = Record<string, unknown>;

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, where: string): Raw {
  if (!isRecord(v)) throw new Error(`${where}: expected a mapping`);
  return v;
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list`);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new Error(`${where}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function strOrNull(v: unknown, where: string): string | null {
  return v === null || v === undefined ? null : str(v, where);
}

function strings(v: unknown, where: string): string[] {
  return list(v, where).map((x, i) => String(x ?? `${where}[${i}]`));
}

/**
 * The tenants of a scenario file, read by the real tenants.yaml validator (defaults of
 * relay-policy.md §1 filled in, domains and ranges canonical): a scenario cannot run on a
 * directory `relaygate apply` would refuse.
 */
export function loadDirectory(v: unknown, where: string): Directory {
  try {
    return validateDirectory(v);
  } catch (err) {
    if (err instanceof DirectoryValidationError) throw new Error(`${where}: ${err.message}`);
    throw err;
  }
}

function loadCertificate(v: unknown, where: string): CertificateFacts | null {
  if (v === undefined || v === null) return null;
  const raw = record(v, where);
  const facts: CertificateFacts = { names: strings(raw['names'], `${where}.names`), trusted: raw['trusted'] === true };
  if (raw['untrustedReason'] !== undefined) facts.untrustedReason = str(raw['untrustedReason'], `${where}.untrustedReason`);
  if (raw['notBefore'] !== undefined) facts.notBefore = str(raw['notBefore'], `${where}.notBefore`);
  if (raw['notAfter'] !== undefined) facts.notAfter = str(raw['notAfter'], `${where}.notAfter`);
  return facts;
}

/** Facts the SMTP layer would establish for recipients that are SRS addresses of the relay. */
function loadSrsReturns(v: unknown, where: string): Record<string, SrsReturnFact> {
  const out: Record<string, SrsReturnFact> = {};
  for (const [address, f] of Object.entries(record(v, where))) {
    const fact = record(f, `${where}[${address}]`);
    const count = (key: string): number => {
      const n = fact[key];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`${where}[${address}].${key}: expected a count`);
      return n;
    };
    out[address] = {
      original: strOrNull(fact['original'], `${where}[${address}].original`),
      recorded: fact['recorded'] === true,
      returnsLeft: count('returnsLeft'),
      recentFromSource: count('recentFromSource'),
    };
  }
  return out;
}

function loadScenario(file: string, v: unknown, index: number): Scenario {
  const raw = record(v, `${file} scenario ${index}`);
  const name = str(raw['name'], `${file} scenario ${index}.name`);
  const where = `${file}: ${name}`;
  const conn = record(raw['connection'], `${where}.connection`);
  const at = new Date(str(raw['at'], `${where}.at`));
  if (Number.isNaN(at.getTime())) throw new Error(`${where}.at: not an ISO 8601 instant`);
  const input: EvaluationInput = {
    at,
    connection: {
      ip: str(conn['ip'], `${where}.connection.ip`),
      tls: conn['tls'] === true,
      certificate: loadCertificate(conn['certificate'], `${where}.connection.certificate`),
    },
    message: {
      mailFrom: str(raw['mailFrom'], `${where}.mailFrom`),
      recipients: strings(raw['recipients'], `${where}.recipients`),
    },
  };
  if (raw['settings'] !== undefined) {
    const settings = record(raw['settings'], `${where}.settings`);
    for (const key of Object.keys(settings)) if (key !== 'allowAddressLiterals') throw new Error(`${where}.settings.${key}: unknown setting`);
    if (settings['allowAddressLiterals'] !== undefined) input.settings = { allowAddressLiterals: settings['allowAddressLiterals'] === true };
  }
  // Omitted = not known yet (before DATA); null = the message has no usable From.
  if ('headerFrom' in raw) input.message.headerFrom = strOrNull(raw['headerFrom'], `${where}.headerFrom`);
  if (raw['srsReturns'] !== undefined) input.message.srsReturns = loadSrsReturns(raw['srsReturns'], `${where}.srsReturns`);

  const exp = record(raw['expected'], `${where}.expected`);
  const expected: ExpectedTransaction = {
    tenant: strOrNull(exp['tenant'], `${where}.expected.tenant`),
    attribution: str(exp['attribution'], `${where}.expected.attribution`),
    ruleSet: str(exp['ruleSet'], `${where}.expected.ruleSet`),
    mailFromReply: strOrNull(exp['mailFromReply'], `${where}.expected.mailFromReply`),
    chart: str(exp['chart'], `${where}.expected.chart`),
    warnings: strings(exp['warnings'], `${where}.expected.warnings`).sort(),
    remedies: list(exp['remedies'], `${where}.expected.remedies`).map(Number),
    tiedTenants: strings(exp['tiedTenants'], `${where}.expected.tiedTenants`),
    recipients: list(exp['recipients'], `${where}.expected.recipients`).map((r, i) => {
      const rr = record(r, `${where}.expected.recipients[${i}]`);
      const at2 = `${where}.expected.recipients[${i}]`;
      return {
        verdict: str(rr['verdict'], `${at2}.verdict`),
        reply: str(rr['reply'], `${at2}.reply`),
        currentVerdict: str(rr['currentVerdict'], `${at2}.currentVerdict`),
        legacyVerdict: str(rr['legacyVerdict'], `${at2}.legacyVerdict`),
        tenant: strOrNull(rr['tenant'], `${at2}.tenant`),
      };
    }),
  };
  if ('connector' in exp) expected.connector = strOrNull(exp['connector'], `${where}.expected.connector`);
  if (expected.recipients.length !== input.message.recipients.length) {
    throw new Error(`${where}: ${input.message.recipients.length} recipients but ${expected.recipients.length} expected outcomes`);
  }
  return { file, name, input, expected };
}

export function loadScenarioFile(path: string, file: string): ScenarioFile {
  const raw = record(parse(readFileSync(path, 'utf8')), file);
  const directory = loadDirectory(raw['directory'], `${file}.directory`);
  const scenarios = list(raw['scenarios'], `${file}.scenarios`).map((s, i) => loadScenario(file, s, i));
  return { file, directory, scenarios };
}

/** Every `*.yaml` in the directory, sorted by name. */
export function loadScenarioDirectory(dir: string): ScenarioFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadScenarioFile(join(dir, f), f));
}
