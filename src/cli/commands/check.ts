import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { demoTlsPaths } from '../../app/demo-tls.js';
import { auditTenant, renderAudit } from '../../compliance/audit.js';
import { ConnectorHealthService } from '../../health/health-service.js';
import { renderHealthWarnings } from '../health-output.js';
import { allAccepted, renderCheck, toCheckJson } from '../../compliance/check-report.js';
import { messageCheckInput, type CheckInput } from '../../compliance/check-service.js';
import { fieldOf } from '../../core/field-error.js';
import { loadScenarioFile, parseInstant, readDirectoryFile } from '../../compliance/scenario.js';
import type { RelaygateConfig } from '../../config/index.js';
import type { Directory } from '../../directory/model.js';
import { buildSnapshot, evaluate } from '../../policy/index.js';
import type { PolicySettings } from '../../policy/types.js';
import { caBundleTrustStore, nodeRootsTrustStore, readPemBundle, type TrustStore } from '../../tls/pem-chain.js';
import { CliError } from '../errors.js';
import { loadCliConfig, withStores } from '../options.js';
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
    .option('--config <file>', 'relaygate.yaml: the directory in its store, the settings the rules read (limits.allowAddressLiterals) and its tls.clientCa for client certificates')
    .option('--directory <file>', 'use this tenants.yaml instead of the store')
    .option('--ca <file>', 'CA bundle trusted for client certificates (default: the configuration\'s tls.clientCa; with the demo settings the demo\'s client CA; else Node\'s roots)')
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
      const trust = () => trustStore(cli, given, opts);
      const loaded: LoadedCheck = scenario ? { ...loadScenarioFile(scenario, { trust, now }), notes: [] } : { ...(await emlInput(opts, now, trust)), directory: null };
      const snapshot = buildSnapshot(loaded.directory ?? (await loadDirectory(cli, opts)));
      const decision = evaluate(snapshot, { ...loaded.input, settings: policySettings(cli, opts) });
      const { input, notes } = loaded;
      cli.stdout.write(
        opts.json
          ? JSON.stringify(toCheckJson(decision, { trustStore: loaded.trustStore, notes }), null, 2) + '\n'
          : renderCheck(decision, { ip: input.connection.ip, tls: input.connection.tls, at: input.at, mailFrom: input.message.mailFrom, trustStore: loaded.trustStore, notes }),
      );
      cli.exitCode = allAccepted(decision) ? 0 : 1;
    });
}

/** What a scenario or a message gives the engine, and the directory a scenario names. */
type LoadedCheck = CheckInput & { directory: Directory | null };

/** The options that name files, resolved against the run's folder. */
function withFilesResolved(cli: CliContext, opts: CheckOptions): CheckOptions {
  const path = (p: string | undefined) => (p === undefined ? undefined : cliPath(cli, p));
  return { ...opts, directory: path(opts.directory), ca: path(opts.ca), eml: path(opts.eml), cert: path(opts.cert), messageTrace: path(opts.messageTrace) };
}

/**
 * The CAs a client certificate is judged against: --ca, else those of the server the configuration
 * describes (its tls.clientCa; with the demo settings the client CA the demo made; or Node's roots
 * when it sets none, as the server does).
 */
function trustStore(cli: CliContext, given: CheckOptions, opts: CheckOptions): TrustStore {
  if (opts.ca) return caBundleTrustStore(opts.ca, '--ca', `--ca ${given.ca}`);
  const config = loadCliConfig(cli, opts);
  const file = config.configFile ?? 'the built-in demo settings';
  if (config.tls.clientCa) return caBundleTrustStore(config.tls.clientCa, 'tls.clientCa', `tls.clientCa ${config.tls.clientCa} of ${file}, as the relay does`);
  if (usesDemoTls(config)) {
    // The demo serve trusts the client CA it made in its data directory (app/server.ts).
    const demoCa = demoTlsPaths(config.dataDir).clientCa;
    if (existsSync(demoCa)) return caBundleTrustStore(demoCa, "the demo's client CA", `the demo's client CA ${demoCa}, as the demo relay does`);
    return nodeRootsTrustStore(
      `Node's root certificates: the built-in demo settings set no tls.clientCa and the demo's client CA ${demoCa} is not made yet (the first \`npm start\` makes it, and the demo relay trusts it from then on)`,
    );
  }
  return nodeRootsTrustStore(`Node's root certificates: ${file} sets no tls.clientCa, and the relay then trusts these`);
}

/** Whether `serve` with this configuration runs on the demo's own TLS files, as app/server.ts decides. */
function usesDemoTls(config: RelaygateConfig): boolean {
  return config.configFile === null && !config.tls.cert && config.listeners.some((l) => l.tls !== 'none');
}

async function runAudit(cli: CliContext, opts: CheckOptions, now: Date): Promise<void> {
  // From the store, the audit comes with the warnings of what the relay saw on the tenant's connectors.
  const { directory, health } = opts.directory
    ? { directory: readDirectoryFile(opts.directory, '--directory'), health: null }
    : await withStores(cli, opts, async (stores) => {
        const directory = await stores.directory.load();
        const found = snapshotTenant(directory, opts.tenant!);
        return { directory, health: found ? (await new ConnectorHealthService({ directory: stores.directory, health: stores.connectorHealth }).report({ tenant: found })).warnings : null };
      });
  const snapshot = buildSnapshot(directory);
  const tenant = snapshot.tenant(opts.tenant!);
  if (!tenant) throw new CliError(`no tenant named ${opts.tenant}`, 'not-found');
  const audit = auditTenant(snapshot, tenant, opts.at ? parseInstant(opts.at, now, '--at') : now);
  const warnings = health ?? [];
  cli.stdout.write(
    opts.json
      ? JSON.stringify(health === null ? audit : { ...audit, connectorHealth: warnings }, null, 2) + '\n'
      : renderAudit(audit) + renderHealthWarnings(warnings),
  );
  cli.exitCode = audit.toActOn.length > 0 || warnings.length > 0 ? 1 : 0;
}

function snapshotTenant(directory: Directory, name: string): string | null {
  return buildSnapshot(directory).tenant(name)?.name ?? null;
}

async function emlInput(opts: CheckOptions, now: Date, trust: () => TrustStore): Promise<CheckInput & { notes: string[] }> {
  if (!opts.eml) throw new CliError('give a scenario file, --eml FILE with --ip, or --tenant NAME');
  if (!opts.ip) throw new CliError('--eml needs --ip (the source IP of the connection)');
  // mailparser is loaded only for --eml.
  const { readEmlFacts } = await import('../../compliance/eml.js');
  const facts = await readEmlFacts(opts.eml, '--eml');
  const at = parseInstant(opts.at, now, '--at');
  const certificate = opts.cert ? readPemBundle(opts.cert, '--cert') : null;
  const request = {
    ip: opts.ip,
    tls: Boolean(opts.tls),
    certificate,
    at,
    ...(opts.mailFrom !== undefined ? { mailFrom: opts.mailFrom } : {}),
    ...(opts.rcpt?.length ? { recipients: opts.rcpt } : {}),
  };
  try {
    return messageCheckInput(facts, request, trust, { mailFrom: '--mail-from' });
  } catch (err) {
    if (fieldOf(err) === 'recipients') throw new CliError(`--eml ${opts.eml}: no recipients (no To or Cc): give --rcpt`);
    if (fieldOf(err) === 'ip') throw new CliError(`--ip: ${(err as Error).message}`);
    throw err;
  }
}

/** The settings of relaygate.yaml the engine reads, as `serve` with the same file would give them. */
function policySettings(cli: CliContext, opts: CheckOptions): PolicySettings {
  const config = loadCliConfig(cli, opts);
  return { allowAddressLiterals: config.limits.allowAddressLiterals };
}

async function loadDirectory(cli: CliContext, opts: CheckOptions): Promise<Directory> {
  if (opts.directory) return readDirectoryFile(opts.directory, '--directory');
  return await withStores(cli, opts, ({ directory }) => directory.load());
}
