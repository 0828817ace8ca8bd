/**
 * The CLI as a function: `runCli(argv, io)` parses ARGV (the words after `relaygate`) with a fresh
 * commander program writing to IO, and resolves to the exit code: 0 success, 1 a negative answer
 * (refusals, findings, not found), 2 invalid input or usage, 70 a bug (cli/errors.ts maps error
 * codes to these, as docs/errors.md tabulates). It never exits the process, so tests
 * run commands in-process, like fastify's `inject`.
 */
import { Command, CommanderError } from 'commander';
import { isCommandName, registerCommands } from './commands/index.js';
import { ExitCode, reportCliError } from './errors.js';
import { cliContext, type CliIo } from './io.js';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = cliContext(io);
  const program = new Command();
  program
    .name('relaygate')
    .description('Multi-tenant SMTP relay with Exchange Online relay rules')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) ?? 80,
      getOutHasColors: () => io.stdout.isTTY === true && io.stdout.hasColors?.() === true,
      getErrHasColors: () => io.stderr.isTTY === true && io.stderr.hasColors?.() === true,
    });
  const args = helpOfSubcommand(argv);
  try {
    await registerCommands(program, cli, args);
    await program.parseAsync([...args], { from: 'user' });
    return cli.exitCode;
  } catch (err) {
    // commander has printed its own message (usage, unknown option, --help, --version).
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.invalid;
    return reportCliError(err, io.stderr, io.env);
  }
}

/**
 * `help queue list` as `queue list --help`: commander's help command takes one command name and
 * would print the help of `queue`, not of its subcommand.
 */
function helpOfSubcommand(argv: readonly string[]): readonly string[] {
  const words = argv.filter((a) => !a.startsWith('-'));
  if (argv[0] !== 'help' || words.length < 3 || !isCommandName(words[1])) return argv;
  return [...argv.slice(1), '--help'];
}
