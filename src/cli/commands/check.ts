import { Command, Option } from 'commander';
import { auditHasFindings, auditTenant, renderAudit } from '../../compliance/audit.js';
import { allAccepted, renderCheck, toCheckJson } from '../../compliance/check-report.js';
import { readEmlFacts } from '../../compliance/eml.js';
import { loadScenarioFile, parseInstant, readDirectoryFile, ScenarioError } from '../../compliance/scenario.js';
import { loadConfig } from '../../config/index.js';
import type { Directory } from '../../directory/model.js';
import { buildSnapshot, evaluate } from '../../policy/index.js';
import type { CertificateFacts, EvaluationInput } from '../../policy/types.js';
import { openStores } from '../../app/stores.js';
import { certificateFactsFromChain, loadTrustAnchors, readPemBundle } from '../../tls/pem-chain.js';
import { CliError } from '../errors.js';
import { runMessageTraceCheck } from './check-message-trace.js';

interface CheckOptions {
  json?: boolean;
  config?: string;
  directory?: string;
  ca?: string;
  eml?: string;
  ip?: string;
  tls?: boolean;
  cert?: string;
  mailFrom?: string;
  rcpt?: string[];
  at?: string;
  tenant?: string;
  messageTrace?: string;
  certName?: string[];
  csv?: boolean;
}

export function register(program: Command): void {
  program
    .command('check')
    .description('Evaluate a scenario file, a message (--eml) or a whole tenant (--tenant) against the relay policy')
    .argument('[scenario]', 'scenario YAML file')
    .option('--json', 'machine-readable output')
    .option('--config <file>', 'relaygate.yaml (for the directory in the store)')
    .option('--directory <file>', 'use this tenants.yaml instead of the store')
    .option('--ca <file>', 'CA bundle trusted for client certificates (default: Node\'s roots)')
    .option('--eml <file>', 'evaluate this message: P2 and recipients come from it')
    .option('--ip <address>', 'source IP of the connection (with --eml)')
    .option('--tls', 'the connection is encrypted (with --eml; implied by --cert)')
    .option('--cert <file>', 'client certificate chain, PEM (with --eml)')
    .option('--mail-from <address>', 'envelope sender (with --eml; default: the Return-Path)')
    .addOption(new Option('--rcpt <address...>', 'envelope recipients (with --eml; default: To and Cc)'))
    .option('--at <instant>', 'ISO 8601 instant of arrival (default: now)')
    .option('--tenant <name>', 'audit this tenant\'s configuration without traffic')
    .option('--message-trace <file>', 'evaluate an Exchange Online message trace CSV (with --tenant)')
    .addOption(new Option('--cert-name <ip=name...>', 'with --message-trace: certificate name presented by the server at this IP'))
    .option('--csv', 'with --message-trace: CSV output')
    .action(async (scenario: string | undefined, opts: CheckOptions) => {
      const now = new Date();
      try {
        if (opts.messageTrace) {
          process.exitCode = await runMessageTraceCheck({ ...opts, messageTrace: opts.messageTrace }, await loadDirectory(opts));
          return;
        }
        if (opts.tenant && !opts.eml && !scenario) return await runAudit(opts, now);
        const { input, directory } = scenario ? loadScenarioFile(scenario, { ca: opts.ca, now }) : { ...(await emlInput(opts, now)), directory: null };
        const snapshot = buildSnapshot(directory ?? (await loadDirectory(opts)));
        const decision = evaluate(snapshot, input);
        process.stdout.write(
          opts.json
            ? JSON.stringify(toCheckJson(decision), null, 2) + '\n'
            : renderCheck(decision, { ip: input.connection.ip, tls: input.connection.tls, at: input.at, mailFrom: input.message.mailFrom }),
        );
        process.exitCode = allAccepted(decision) ? 0 : 1;
      } catch (err) {
        if (err instanceof CliError) throw err;
        if (err instanceof ScenarioError || err instanceof Error) throw new CliError(err.message, 2);
        throw err;
      }
    });
}

async function runAudit(opts: CheckOptions, now: Date): Promise<void> {
  const directory = await loadDirectory(opts);
  const snapshot = buildSnapshot(directory);
  const tenant = snapshot.tenant(opts.tenant!);
  if (!tenant) throw new CliError(`no tenant named ${opts.tenant}`, 2);
  const audit = auditTenant(snapshot, tenant, opts.at ? parseInstant(opts.at, now, '--at') : now);
  process.stdout.write(opts.json ? JSON.stringify(audit, null, 2) + '\n' : renderAudit(audit));
  process.exitCode = auditHasFindings(audit) ? 1 : 0;
}

async function emlInput(opts: CheckOptions, now: Date): Promise<{ input: EvaluationInput }> {
  if (!opts.eml) throw new CliError('give a scenario file, --eml FILE with --ip, or --tenant NAME', 2);
  if (!opts.ip) throw new CliError('--eml needs --ip (the source IP of the connection)', 2);
  const facts = await readEmlFacts(opts.eml);
  const at = parseInstant(opts.at, now, '--at');
  let certificate: CertificateFacts | null = null;
  if (opts.cert) certificate = certificateFactsFromChain(readPemBundle(opts.cert), loadTrustAnchors(opts.ca), at);
  const recipients = opts.rcpt?.length ? opts.rcpt : facts.recipients;
  if (recipients.length === 0) throw new CliError(`${opts.eml}: no recipients (no To or Cc): give --rcpt`, 2);
  return {
    input: {
      at,
      connection: { ip: opts.ip, tls: Boolean(opts.tls) || certificate !== null, certificate },
      message: { mailFrom: opts.mailFrom ?? facts.returnPath ?? '', recipients, headerFrom: facts.headerFrom },
    },
  };
}

async function loadDirectory(opts: CheckOptions): Promise<Directory> {
  if (opts.directory) return readDirectoryFile(opts.directory);
  const stores = openStores(loadConfig(opts.config));
  try {
    return await stores.directory.load();
  } finally {
    await stores.close();
  }
}
