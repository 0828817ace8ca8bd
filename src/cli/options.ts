/**
 * What every store-touching command shares: the `--config FILE` option, loading the configuration,
 * opening the stores for the length of one command, and turning directory errors into CliErrors
 * with the exit codes scripts rely on (2 invalid input, 1 not found).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { openStores, type Stores } from '../app/stores.js';
import { ConfigError, loadConfig, type RelaygateConfig } from '../config/index.js';
import { DirectoryEditError, DirectoryValidationError } from '../directory/index.js';
import { CliError } from './errors.js';
import type { CliContext } from './io.js';

export interface ConfigOption {
  config?: string;
}

export function addConfigOption(cmd: Command): Command {
  return cmd.option('--config <file>', 'relaygate.yaml (default: ./relaygate.yaml, else the built-in demo settings)');
}

export function loadCliConfig(cli: CliContext, opts: ConfigOption): RelaygateConfig {
  try {
    return loadConfig(opts.config, cli.env, { cwd: cli.cwd });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** Runs `fn` with the stores open and closes them afterwards, whatever happens. */
export async function withStores<T>(
  cli: CliContext,
  opts: ConfigOption,
  fn: (stores: Stores, config: RelaygateConfig) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig(cli, opts);
  let stores: Stores;
  try {
    stores = openStores(config);
  } catch (err) {
    throw new CliError(`cannot open the store: ${err instanceof Error ? err.message : String(err)}`, 2);
  }
  try {
    return await fn(stores, config);
  } catch (err) {
    throw toCliError(err);
  } finally {
    stores.close();
  }
}

/** Directory validation → exit 2 with every problem; a missing item → exit 1; the rest unchanged. */
export function toCliError(err: unknown): unknown {
  if (err instanceof DirectoryValidationError) return new CliError(err.message, 2);
  if (err instanceof DirectoryEditError) return new CliError(err.message, err.kind === 'not-found' ? 1 : 2);
  return err;
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
