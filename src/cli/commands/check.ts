import { Command, Option } from 'commander';
import { auditHasFindings, auditTenant, renderAudit } from '../../compliance/audit.js';
import { allAccepted, renderCheck, toCheckJson } from '../../compliance/check-report.js';
import { loadScenarioFile, parseInstant, readDirectoryFile } from '../../compliance/scenario.js';
import { loadConfig } from '../../config/index.js';
import type { Directory } from '../../directory/model.js';
import { buildSnapshot, evaluate } from '../../policy/index.js';
import type { CertificateFacts, EvaluationInput, PolicySettings } from '../../policy/types.js';
import { asStoreFailure, openStores } from '../../app/stores.js';
import { certificateFactsFromChain, loadTrustAnchors, readPemBundle } from '../../tls/pem-chain.js';
import { CliError } from '../errors.js';
import { runMessageTraceCheck } from './check-message-trace.js';
import { cliPath, type CliContext } from '../io.js';

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

export function register(program: Command, cli: CliContext): void {
  program
    .command('check')
    .description('Evaluate a scenario file, a message (--eml) or a whole tenant (--tenant) against the relay policy')
    .argument('[scenario]', 'scenario YAML file')
    .option('--json', 'machine-readable output')
    .option('--config <file>', 'relaygate.yaml: the directory in the store, and the settings the rules read (limits.allowAddressLiterals)')
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
    .action(async (scenarioArg: string | undefined, given: CheckOptions) => {
      const now = new Date();
      const scenario = scenarioArg === undefined ? undefined : cliPath(cli, scenarioArg);
      const opts = withFilesResolved(cli, given);
      if (opts.messageTrace) {
        cli.exitCode = await runMessageTraceCheck(cli, { ...opts, messageTrace: opts.messageTrace }, await loadDirectory(cli, opts));
        return;
      }
      if (opts.tenant && !opts.eml && !scenario) return await runAudit(cli, opts, now);
      const { input, directory } = scenario ? loadScenarioFile(scenario, { ca: opts.ca, now }) : { ...(await emlInput(opts, now)), directory: null };
      const snapshot = buildSnapshot(directory ?? (await loadDirectory(cli, opts)));
      const decision = evaluate(snapshot, { ...input, settings: policySettings(cli, opts) });
      cli.stdout.write(
        opts.json
          ? JSON.stringify(toCheckJson(decision), null, 2) + '\n'
          : renderCheck(decision, { ip: input.connection.ip, tls: input.connection.tls, at: input.at, mailFrom: input.message.mailFrom }),
      );
      cli.exitCode = allAccepted(decision) ? 0 : 1;
    });
}

/** The options that name files, resolved against the run's folder. */
function withFilesResolved(cli: CliContext, opts: CheckOptions): CheckOptions {
  const path = (p: string | undefined) => (p === undefined ? undefined : cliPath(cli, p));
  return { ...opts, directory: path(opts.directory), ca: path(opts.ca), eml: path(opts.eml), cert: path(opts.cert), messageTrace: path(opts.messageTrace) };
}

async function runAudit(cli: CliContext, opts: CheckOptions, now: Date): Promise<void> {
  const directory = await loadDirectory(cli, opts);
  const snapshot = buildSnapshot(directory);
  const tenant = snapshot.tenant(opts.tenant!);
  if (!tenant) throw new CliError(`no tenant named ${opts.tenant}`, 'not-found');
  const audit = auditTenant(snapshot, tenant, opts.at ? parseInstant(opts.at, now, '--at') : now);
  cli.stdout.write(opts.json ? JSON.stringify(audit, null, 2) + '\n' : renderAudit(audit));
  cli.exitCode = auditHasFindings(audit) ? 1 : 0;
}

async function emlInput(opts: CheckOptions, now: Date): Promise<{ input: EvaluationInput }> {
  if (!opts.eml) throw new CliError('give a scenario file, --eml FILE with --ip, or --tenant NAME');
  if (!opts.ip) throw new CliError('--eml needs --ip (the source IP of the connection)');
  // mailparser is loaded only for --eml.
  const { readEmlFacts } = await import('../../compliance/eml.js');
  const facts = await readEmlFacts(opts.eml);
  const at = parseInstant(opts.at, now, '--at');
  let certificate: CertificateFacts | null = null;
  if (opts.cert) certificate = certificateFactsFromChain(readPemBundle(opts.cert), loadTrustAnchors(opts.ca), at);
  const recipients = opts.rcpt?.length ? opts.rcpt : facts.recipients;
  if (recipients.length === 0) throw new CliError(`${opts.eml}: no recipients (no To or Cc): give --rcpt`);
  return {
    input: {
      at,
      connection: { ip: opts.ip, tls: Boolean(opts.tls) || certificate !== null, certificate },
      message: { mailFrom: opts.mailFrom ?? facts.returnPath ?? '', recipients, headerFrom: facts.headerFrom },
    },
  };
}

/** The settings of relaygate.yaml the engine reads, as `serve` with the same file would give them. */
function policySettings(cli: CliContext, opts: CheckOptions): PolicySettings {
  const config = loadConfig(opts.config, cli.env, { cwd: cli.cwd });
  return { allowAddressLiterals: config.limits.allowAddressLiterals };
}

async function loadDirectory(cli: CliContext, opts: CheckOptions): Promise<Directory> {
  if (opts.directory) return readDirectoryFile(opts.directory);
  const stores = openStores(loadConfig(opts.config, cli.env, { cwd: cli.cwd }));
  try {
    return await stores.directory.load();
  } catch (err) {
    throw asStoreFailure(err);
  } finally {
    await stores.close();
  }
}
