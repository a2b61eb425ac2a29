import { catalogHelp } from './catalog.ts';
import { beyondUsage } from './command.ts';
import { demoHelp } from './demo.ts';
import { docsHelp } from './docs.ts';
import { ExitCode } from './exit-codes.ts';
import type { CommandLine } from './global-options.ts';
import { lsHelp } from './ls.ts';
import type { Output } from './output.ts';
import { queryHelp } from './query.ts';
import { runHelp } from './run.ts';
import { runsHelp } from './runs.ts';
import { startHelp } from './start.ts';
import { syncHelp } from './sync.ts';
import { testHelp } from './test.ts';

const helpHelp = `inlet help [command]
  Lists every command, or shows one command's usage (as inlet <command> --help does).`;

/** What inlet help prints: every command's usage, the options every command takes, the exit codes. */
export const HELP = `inlet: collect product events into a Parquet lake and query them with SQL.

Usage: inlet <command> [--config inlet.yaml] [--log-format json|text] [options]

Commands:
${[startHelp, queryHelp, syncHelp, runHelp, testHelp, lsHelp, runsHelp, catalogHelp, docsHelp, demoHelp, helpHelp].map((h) => `  ${h.replaceAll('\n', '\n  ')}`).join('\n\n')}

--log-format json|text: how a command logs, JSON lines (inlet start's default, to stdout) or text
lines (the others', to stderr); it wins over INLET_LOG_FORMAT. inlet test and help log nothing.

Exit codes: 0 ok, 1 failure, 2 usage (also a source, run, workflow, table or model name that does
not exist), 3 configuration (workflows too), 4 query refused or failed, 5 an error inlet did not
foresee (its stack is logged at INLET_LOG_LEVEL=debug); inlet run, test, sync or runs start stopped by
Ctrl-C 130, by SIGTERM 143, and inlet demo stopped before it serves (start and demo stopped while they
serve exit 0).
`;

/** Each command's usage, by the names inlet takes for it. */
const COMMAND_HELP: Record<string, string> = {
  start: startHelp,
  query: queryHelp,
  sync: syncHelp,
  run: runHelp,
  test: testHelp,
  ls: lsHelp,
  list: lsHelp,
  runs: runsHelp,
  catalog: catalogHelp,
  docs: docsHelp,
  demo: demoHelp,
  help: helpHelp,
};

/**
 * The command the line runs; or, when it asks for help (inlet help, inlet <command> --help) or
 * names no command inlet has, the exit code once the help or the usage error is printed.
 */
export function commandToRun(
  { command, commandArgs, leading }: CommandLine,
  output: Output,
): string | ExitCode {
  // inlet help's words, past a --config it has no use for and a --help that asks what it asks.
  const helpWords =
    command === 'help' ? withoutConfig(commandArgs).filter((a) => a !== '--help' && a !== '-h') : [];
  // inlet help query extra showed query's usage, extra passed over, and inlet help --x the list of
  // commands, exit 0, as if each had been read.
  const helpOption = helpWords.find((word) => word.startsWith('-'));
  if (helpOption !== undefined || helpWords.length > 1) {
    output.err(
      `${helpOption !== undefined ? `inlet help takes no option ${helpOption}.\n` : beyondUsage('help', 'one command', helpWords.slice(1))}${helpHelp}\n`,
    );
    return ExitCode.USAGE;
  }
  // inlet help <command>: that command's usage, as git help does.
  const asked = COMMAND_HELP[helpWords[0] ?? ''];
  if (asked) {
    output.out(`${asked}\n`);
    return ExitCode.OK;
  }
  // One there is not is a mistyped command, as inlet qeury is (inlet help --help is the help).
  const unknownAsked = helpWords[0];
  if (unknownAsked !== undefined) {
    output.err(`Unknown command "${unknownAsked}".\n\n${HELP}`);
    return ExitCode.USAGE;
  }
  // inlet --config x.yaml (the command left off) and inlet --verbose printed the list of commands
  // without a word of what was wrong, or called the option an unknown command.
  if (command === undefined && leading.length > 0) {
    output.err(`inlet needs a command after --config, such as inlet --config x.yaml start.\n\n${HELP}`);
    return ExitCode.USAGE;
  }
  if (command?.startsWith('-') && command !== '--help' && command !== '-h') {
    output.err(
      `${command} is no command: inlet takes its command first and the command's options after it (inlet <command> --help lists them); --config alone may come before.\n\n${HELP}`,
    );
    return ExitCode.USAGE;
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    output.out(HELP);
    return command ? ExitCode.OK : ExitCode.USAGE;
  }
  // Before the configuration is read: a mistyped command is a usage error whatever the file holds.
  const help = COMMAND_HELP[command];
  if (!help) {
    output.err(`Unknown command "${command}".\n\n${HELP}`);
    return ExitCode.USAGE;
  }
  // inlet <command> --help: that command's usage, whatever else is on the line.
  if (commandArgs.includes('--help') || commandArgs.includes('-h')) {
    output.out(`${help}\n`);
    return ExitCode.OK;
  }
  return command;
}

/** args without --config and its value (-c=x is --config=x by now): inlet help reads no configuration. */
function withoutConfig(args: string[]): string[] {
  return args.filter(
    (arg, i) =>
      arg !== '--config' &&
      arg !== '-c' &&
      !arg.startsWith('--config=') &&
      args[i - 1] !== '--config' &&
      args[i - 1] !== '-c',
  );
}
