import { parseArgs } from 'node:util';
import { configFileName, type InletConfig, loadConfig } from '../config/index.ts';
import { type InletError, isInletError } from '../errors/index.ts';
import { createLogger, isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from '../log/index.ts';
import { catalogCommand, catalogHelp } from './catalog.ts';
import { beyondUsage, longForm, StoppedBySignal, stoppedLine } from './command.ts';
import { dbtFlagMessage } from './dbt-flags.ts';
import { demoCommand, demoHelp } from './demo.ts';
import { docsCommand, docsHelp } from './docs.ts';
import { ExitCode } from './exit-codes.ts';
import { logLine } from './log-lines.ts';
import { lsCommand, lsHelp } from './ls.ts';
import {
  type Output,
  printableLines,
  printableMessage,
  processOutput,
  withPrintableErrors,
} from './output.ts';
import { queryCommand, queryHelp } from './query.ts';
import { runCommand, runHelp } from './run.ts';
import { runsCommand, runsHelp } from './runs.ts';
import { startCommand, startHelp } from './start.ts';
import { syncCommand, syncHelp } from './sync.ts';
import { testCommand, testHelp } from './test.ts';

const helpHelp = `inlet help [command]
  Lists every command, or shows one command's usage (as inlet <command> --help does).`;

const HELP = `inlet: collect product events into a Parquet lake and query them with SQL.

Usage: inlet <command> [--config inlet.yaml] [--log-format json|text] [options]

Commands:
${[startHelp, queryHelp, syncHelp, runHelp, testHelp, lsHelp, runsHelp, catalogHelp, docsHelp, demoHelp, helpHelp].map((h) => `  ${h.replaceAll('\n', '\n  ')}`).join('\n\n')}

--log-format json|text: how a command logs, JSON lines (inlet start's default, to stdout) or text
lines (the others', to stderr); it wins over INLET_LOG_FORMAT. inlet test and help log nothing.

Exit codes: 0 ok, 1 failure, 2 usage (also a source, run, workflow, table or model name that does
not exist), 3 configuration (workflows too), 4 query refused or failed, 5 an error inlet did not
foresee (its stack is logged at INLET_LOG_LEVEL=debug); inlet run, test, sync or runs start stopped by
Ctrl-C 130, by SIGTERM 143.
`;

const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

/** The options inlet reads before the command's own, and why each is given once. */
const ONE_VALUE = {
  config: 'inlet reads one configuration file',
  'log-format': 'inlet logs in one format',
} as const;

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

/** Entry point of the inlet command; returns the exit code. */
export async function main(
  argv: string[],
  output: Output = processOutput(),
  env: Record<string, string | undefined> = process.env,
): Promise<ExitCode> {
  return dispatch(argv, withPrintableErrors(output), env);
}

async function dispatch(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined>,
): Promise<ExitCode> {
  // -c=b.yaml as --config=b.yaml, up to a -- (after it, every word is the command's).
  const end = argv.indexOf('--');
  argv = argv.map((arg, i) => (end >= 0 && i > end ? arg : longForm(arg, CONFIG_OPTION)));
  // --config may also come before the command (inlet --config x.yaml query …), as git's -C does.
  const leading: string[] = [];
  while (argv[0] === '--config' || argv[0] === '-c' || argv[0]?.startsWith('--config=')) {
    const taken = argv[0].includes('=') ? 1 : 2;
    leading.push(...argv.slice(0, taken));
    argv = argv.slice(taken);
  }
  const [command, ...commandArgs] = argv;
  // Ahead of the command's own: after a -- of the command's (inlet --config x.yaml query -- "…"),
  // a --config put last was read as part of the SQL, and inlet ran on the defaults.
  const rest = [...leading, ...commandArgs];
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
  // --config (and --log-format, for a command that logs) may appear anywhere after the command;
  // everything else belongs to the command. inlet test logs nothing: its parser refuses the flag.
  const taken: Array<keyof typeof ONE_VALUE> = command === 'test' ? ['config'] : ['config', 'log-format'];
  const { values, tokens } = parseArgs({
    // A command's short option stands aside as a word: read as flags, -s=daily_active_users held -c,
    // and "tive_users" was taken for the configuration file.
    args: rest.map((arg) => (/^-[^-c]/.test(arg) ? '_' : arg)),
    options: { ...CONFIG_OPTION, 'log-format': { type: 'string' } },
    strict: false,
    tokens: true,
  });
  const ours = tokens.flatMap((t) =>
    t.kind === 'option' && taken.includes(t.name as keyof typeof ONE_VALUE) ? [t] : [],
  );
  const args = rest.filter(
    (_arg, i) => !ours.some((t) => t.index === i || (t.inlineValue === false && t.index + 1 === i)),
  );
  // Given twice (inlet --config a.yaml start --config b.yaml), the last one was read and the other
  // left without a word.
  for (const name of taken) {
    const given = ours.flatMap((t) => (t.name === name ? [t.value ?? ''] : []));
    if (given.length < 2) continue;
    output.err(
      `--${name} is given ${given.length} times (${given.map((value) => JSON.stringify(value)).join(', ')}), and ${ONE_VALUE[name]}; give --${name} once.\n`,
    );
    return ExitCode.USAGE;
  }
  // A bare --config (inlet start --config $CONFIG with the variable unset) ran on the defaults, data
  // and all in ./data; an empty path was read as the working directory.
  if (values.config === true || values.config === '') {
    output.err(
      '--config needs the path of a configuration file after it, such as --config /etc/inlet/inlet.yaml; leave it out to run on defaults.\n',
    );
    return ExitCode.USAGE;
  }
  const formatFlag = taken.includes('log-format') ? values['log-format'] : undefined;
  if (formatFlag !== undefined && (typeof formatFlag !== 'string' || !isLogFormat(formatFlag))) {
    output.err(
      // An option in its place (inlet run --log-format --config x.yaml) was taken for its value.
      typeof formatFlag === 'string' && formatFlag !== '' && !formatFlag.startsWith('-')
        ? `--log-format is ${JSON.stringify(formatFlag)}, not a log format; give ${LOG_FORMATS.join(' or ')}, or leave it out.\n`
        : `--log-format needs ${LOG_FORMATS.join(' or ')} after it, or leave it out.\n`,
    );
    return ExitCode.USAGE;
  }
  let config: InletConfig;
  try {
    config = loadConfig({
      path: typeof values.config === 'string' ? values.config : undefined,
      env,
      sourcesInUse: sourcesInUse(command, args),
      projectMayBeMissing: !readsProject(command, args),
    });
  } catch (error) {
    // CODE: message, as every other error: docs/errors.md is looked up by the code.
    output.err(`${isInletError(error) ? coded(error) : (error as Error).message}\n`);
    return ExitCode.CONFIG;
  }
  const level = env.INLET_LOG_LEVEL || undefined;
  if (level !== undefined && !isLogLevel(level)) {
    output.err(
      `INLET_LOG_LEVEL is "${level}", not a log level; set it to one of ${LOG_LEVELS.join(', ')}, or unset it.\n`,
    );
    return ExitCode.CONFIG;
  }
  // --log-format wins: INLET_LOG_FORMAT, kept in the shell or a service's environment, is not read.
  const format = formatFlag ?? (env.INLET_LOG_FORMAT || undefined);
  if (format !== undefined && !isLogFormat(format)) {
    output.err(
      `INLET_LOG_FORMAT is "${format}", not a log format; set it to ${LOG_FORMATS.join(' or ')}, or unset it.\n`,
    );
    return ExitCode.CONFIG;
  }
  // inlet start logs JSON lines to stdout, for a log shipper. Commands that print their own results
  // log to stderr, so a pipe reads only their results, and from warn up: a failed model's log line
  // came between the result lines a pipe reads, and inlet sync's info lines only repeated its own
  // progress and per-table counts. inlet query's engine process logs what the server's log keeps
  // (that process ended, and why), which the query's own error already says: silent. Their lines
  // are text, as dbt's are, unless INLET_LOG_FORMAT=json asks for JSON.
  const server = command === 'start';
  const logger = createLogger({
    level: level ?? (server ? 'info' : command === 'query' ? 'silent' : 'warn'),
    stderr: !server,
    text: (format ?? (server ? 'json' : 'text')) === 'text' ? logLine : undefined,
  });
  try {
    switch (command) {
      case 'start':
        return await startCommand(args, config, logger, output, env);
      case 'query':
        return await queryCommand(args, config, logger, output);
      case 'sync':
        return await syncCommand(args, config, logger, output);
      case 'run':
        return await runCommand(args, config, logger, output);
      case 'test':
        return await testCommand(args, config, output);
      case 'ls':
      case 'list':
        return await lsCommand(args, config, logger, output);
      case 'runs':
        return await runsCommand(args, config, logger, output);
      case 'catalog':
        return await catalogCommand(args, config, logger, output);
      case 'docs':
        return await docsCommand(args, config, logger, output);
      case 'demo':
        return await demoCommand(args, config, logger, output);
      default:
        output.err(`Unknown command "${command}".\n\n${HELP}`);
        return ExitCode.USAGE;
    }
  } catch (thrown) {
    // Work Ctrl-C or SIGTERM stopped (SYNC_CANCELLED) says its error, and exits as the signal gives.
    const stopped = thrown instanceof StoppedBySignal ? thrown : undefined;
    const error = stopped ? stopped.error : thrown;
    // Whatever broke on the way out (DuckDB's "INTERRUPT Error: Interrupted!" from a view refresh
    // under way) is the stop's doing: said as an error inlet did not foresee, it exited 5.
    if (stopped && !isInletError(error)) {
      logger.debug({ err: error }, `inlet ${command} stopped by a signal`);
      output.err(`${stoppedLine(command, stopped.exitCode)}\n`);
      return stopped.exitCode;
    }
    if (isInletError(error)) {
      output.err(`${coded(error)}\n`);
      return stopped?.exitCode ?? exitCodeOf(error.code, command);
    }
    // An unknown option, a missing or ambiguous value (--max-rows -5): Node's message says which.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
      output.err(
        `${printableLines(dbtFlagMessage(error as Error, configFileName(config)) ?? parseArgsMessage(error as Error, command) ?? (error as Error).message)}\n`,
      );
      return ExitCode.USAGE;
    }
    // Node's stack trace, printed as it was, buried what failed under lines only a developer reads:
    // one line says what, and the whole error goes to the log, seen at INLET_LOG_LEVEL=debug.
    logger.debug({ err: error }, `inlet ${command} failed with an error inlet did not foresee`);
    output.err(
      `inlet ${command} failed with an error inlet did not foresee: ${printableLines(describeUnforeseen(error))}. ` +
        `Run it again with INLET_LOG_LEVEL=debug to log the whole error with its stack (on standard ${server ? 'output' : 'error'}), and report it.\n`,
    );
    return ExitCode.INTERNAL;
  }
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

/**
 * The sources whose ${VAR} references a command needs set. inlet start (log tails, scheduled
 * syncs), demo and runs start (a workflow's sync steps) use them all; inlet sync its own; the
 * commands that read the lake or the run history none, so a database URL kept in the environment
 * of the syncing job only does not stop them.
 */
function sourcesInUse(command: string, args: string[]): 'all' | string[] {
  if (command === 'sync') return args.filter((arg) => !arg.startsWith('-')).slice(0, 1);
  if (command === 'runs') return args[0] === 'start' ? 'all' : [];
  return ['query', 'catalog', 'run', 'test', 'ls', 'list', 'docs'].includes(command) ? [] : 'all';
}

/**
 * Whether a command reads the project, whose folder project_dir must then name: inlet query, sync
 * and runs (but runs start) do not, inlet demo makes it, and a collector or loader of its own (inlet start --role collector)
 * may run where the project is not.
 */
function readsProject(command: string, args: string[]): boolean {
  // inlet runs lists and shows the run history alone: refused for a project_dir that names no
  // folder, it hid the runs that would say what went wrong. inlet runs start runs a workflow's steps.
  if (command === 'runs') return args[0] === 'start';
  if (command !== 'start') return ['run', 'test', 'ls', 'list', 'catalog', 'docs'].includes(command);
  const roles = args
    .flatMap((arg, i) => (arg.startsWith('--role=') ? [arg.slice(7)] : args[i - 1] === '--role' ? [arg] : []))
    .flatMap((value) => value.split(',').map((role) => role.trim()));
  return roles.length === 0 || roles.some((role) => role === 'web' || role === 'scheduler');
}

/**
 * parseArgs' refusals in inlet's words, naming the command and where its usage is. For an option the
 * command does not take, Node's message went on about positionals starting with '-', which no
 * command's arguments do (SQL with a leading -- comment is read as SQL); for an option without its
 * value, it said "Option '--workflow <value>' argument missing", or, with another option after it,
 * "argument is ambiguous" and advice to write --format=-XYZ; for a word a command takes none of,
 * "This command does not take positional arguments"; for a switch given a value, "Option
 * '--full-refresh' does not take an argument".
 */
function parseArgsMessage(error: Error, command: string): string | undefined {
  const help = `inlet ${command} --help lists what it takes.`;
  const unknown = /^Unknown option '(-[^']*)'/.exec(error.message)?.[1];
  if (unknown) return `inlet ${command} takes no option ${unknown}; ${help.replace('what', 'the options')}`;
  // '-s, --select <value>': the long name is the one the usage shows.
  const valueless = /^Option '(?:-\w, )?(--[^' ]+)(?: <value>)?' argument (missing|is ambiguous)/.exec(
    error.message,
  );
  if (valueless)
    return valueless[2] === 'missing'
      ? `${valueless[1]} needs a value after it; ${help}`
      : `${valueless[1]} needs a value after it, where an option comes; write ${valueless[1]}=VALUE for a value that starts with -; ${help}`;
  // A switch given a value (--full-refresh=true): Node's words named no command nor what to write.
  const switched = /^Option '(?:-\w, )?(--[^' ]+)' does not take an argument/.exec(error.message)?.[1];
  if (switched) return `${switched} takes no value: give it alone to switch it on, or leave it out; ${help}`;
  const extra = /^Unexpected argument '([^']*)'/.exec(error.message)?.[1];
  if (extra !== undefined) return `inlet ${command} takes no argument ${JSON.stringify(extra)}; ${help}`;
  return undefined;
}

/** An expected error as the command line prints it: its code, then its message. */
const coded = (error: InletError): string => `${error.code}: ${printableMessage(error.message)}`;

/** An error's code, message and the file it names, on one line. */
function describeUnforeseen(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split('\n')[0] ?? '';
  const { code, path } = error as NodeJS.ErrnoException;
  const message = error.message.split('\n')[0] ?? '';
  const named = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  return path && !named.includes(path) ? `${named} (${path})` : named;
}

/**
 * Configuration, data directory and port problems (docs/errors.md's first section) exit 3, and so
 * does a workflow that is not valid: it is inlet.yaml's workflows: (or a file beside them), and a
 * supervisor that restarts on failure but not on a configuration error should not loop on it.
 */
const CONFIGURATION_CODES = new Set([
  'DATA_DIR_IN_USE',
  'DATA_DIR_UNUSABLE',
  'SERVER_CANNOT_LISTEN',
  'WORKFLOW_INVALID',
]);

/**
 * A name on the command line that names nothing (inlet sync nosuch, inlet runs 999, inlet catalog
 * nope, inlet run nosuch) is a usage error, as an unknown command is: the line is wrong, not the run.
 */
const UNKNOWN_NAME_CODES = new Set(['NOT_FOUND', 'MODEL_NOT_FOUND']);

/**
 * What else stops inlet query's statement: a table it names left out of the engine, a damaged file.
 * The query failed, as the README's exit code 4 says, where inlet run exits 1 on them.
 */
const QUERY_FAILURE_CODES = new Set(['TABLE_UNAVAILABLE', 'LAKE_UNREADABLE']);

function exitCodeOf(code: string, command: string): ExitCode {
  if (code.startsWith('CONFIG_') || CONFIGURATION_CODES.has(code)) return ExitCode.CONFIG;
  // A file where the lake keeps a folder stops inlet start as a data directory problem does.
  if (code === 'LAKE_UNREADABLE' && (command === 'start' || command === 'demo')) return ExitCode.CONFIG;
  if (UNKNOWN_NAME_CODES.has(code)) return ExitCode.USAGE;
  if (command === 'query' && QUERY_FAILURE_CODES.has(code)) return ExitCode.QUERY;
  return code.startsWith('QUERY') ? ExitCode.QUERY : ExitCode.FAILURE;
}
