/**
 * What every store-touching command shares: the `--config FILE` option, loading the configuration
 * and opening the stores for the length of one command. Errors keep their codes; runCli turns them
 * into exit codes (cli/errors.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { asStoreFailure, openStores, type Stores } from '../app/stores.js';
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE, loadConfig, type RelaygateConfig } from '../config/index.js';
import { CliError, failedTo } from './errors.js';
import { cliPath, type CliContext } from './io.js';

export interface ConfigOption {
  config?: string;
}

export function addConfigOption(cmd: Command): Command {
  return cmd.option('--config <file>', 'relaygate.yaml (default: ./relaygate.yaml, else the built-in demo settings)');
}

export function loadCliConfig(cli: CliContext, opts: ConfigOption): RelaygateConfig {
  if (opts.config !== undefined && !existsSync(cliPath(cli, opts.config))) {
    throw new CliError(`--config ${opts.config}: not found`, 'invalid', { details: { field: '--config', path: opts.config } });
  }
  return loadConfig(opts.config, cli.env, { cwd: cli.cwd });
}

/**
 * Runs `fn` with the stores open and closes them afterwards, whatever happens. A store read with
 * the demo settings (no --config, no ./relaygate.yaml) is said so on stderr: it is not the store of
 * the relay the person may have in mind.
 */
export async function withStores<T>(
  cli: CliContext,
  opts: ConfigOption,
  fn: (stores: Stores, config: RelaygateConfig) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig(cli, opts);
  if (config.configFile === null) {
    cli.stderr.write(
      `relaygate: no --config and no ./${DEFAULT_CONFIG_FILE}: using the built-in demo settings, data directory ${config.dataDir}\n`,
    );
  }
  let stores: Stores;
  try {
    stores = await openStores(config);
  } catch (err) {
    throw failedTo('cannot open the store', err);
  }
  try {
    return await fn(stores, config);
  } catch (err) {
    throw asStoreFailure(err);
  } finally {
    await stores.close();
  }
}

export function printJson(cli: CliContext, value: unknown): void {
  cli.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Collects a repeatable option (`--ip a --ip b`) into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses an explicit boolean option value (`--require-tls false`). */
export function parseBoolean(value: string): boolean {
  if (value === 'true' || value === 'yes') return true;
  if (value === 'false' || value === 'no') return false;
  throw new InvalidArgumentError('expected true or false');
}
