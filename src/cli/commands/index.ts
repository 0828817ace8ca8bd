import type { Command } from 'commander';
import type { CliContext } from '../io.js';

type CommandModule = { register(program: Command, cli: CliContext): void };

/**
 * Every top-level command, in the order `relaygate --help` lists them, one line each. A module is
 * imported only when its command runs (or for the full help), so `tenant list` never loads the
 * mail libraries `serve` and `check` need.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<CommandModule>]> = [
  ['migrate', () => import('./migrate.js')],
  ['apply', () => import('./apply.js')],
  ['export', () => import('./export.js')],
  ['tenant', () => import('./tenant.js')],
  ['domain', () => import('./domain.js')],
  ['connector', () => import('./connector.js')],
  ['check', () => import('./check.js')],
  ['import', () => import('./import.js')],
  ['serve', () => import('./serve.js')],
  ['queue', () => import('./queue.js')],
  ['dkim', () => import('./dkim.js')],
  ['route', () => import('./route.js')],
  ['quota', () => import('./quota.js')],
  ['srs', () => import('./srs.js')],
  ['headers', () => import('./headers.js')],
  ['store', () => import('./store.js')],
  ['token', () => import('./token.js')],
  ['webhook', () => import('./webhook.js')],
  ['report', () => import('./report.js')],
  ['trace', () => import('./trace.js')],
];

/** The top-level commands, in the order of the full help. */
export function commandNames(): string[] {
  return COMMANDS.map(([name]) => name);
}

export function isCommandName(name: string | undefined): boolean {
  return COMMANDS.some(([n]) => n === name);
}

/**
 * Registers the command ARGV names, or all of them when it names none that exists (help, errors).
 * `--version` alone needs none: it answers without loading a command.
 */
export async function registerCommands(program: Command, cli: CliContext, argv: readonly string[]): Promise<void> {
  const named = commandNamed(argv);
  if (named === undefined && argv.some((a) => a === '--version' || a === '-V')) return;
  const wanted = COMMANDS.filter(([name]) => name === named);
  for (const [, load] of wanted.length > 0 ? wanted : COMMANDS) (await load()).register(program, cli);
}

/** The top-level command in ARGV (the program itself takes no option with a value); `help X` names X. */
function commandNamed(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
