#!/usr/bin/env node
/**
 * The `relaygate` command. Each command lives in its own module under commands/ and registers
 * itself here; commands are thin and call services.
 * Exit codes: 0 success, 1 a negative result (refusals, findings), 2 invalid input or usage.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { CliError } from './errors.js';

const program = new Command();
program
  .name('relaygate')
  .description('Multi-tenant SMTP relay with Exchange Online relay rules')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof CliError) {
    process.stderr.write(`relaygate: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`relaygate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  }
}
