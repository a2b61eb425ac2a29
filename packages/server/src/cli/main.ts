import { configFileName, type InletConfig, loadConfig } from '../config/index.ts';
import { isInletError } from '../errors/index.ts';
import { createLogger, isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from '../log/index.ts';
import { catalogCommand } from './catalog.ts';
import { StoppedBySignal, stoppedLine } from './command.ts';
import { readsProject, sourcesInUse } from './config-needs.ts';
import { dbtFlagMessage } from './dbt-flags.ts';
import { demoCommand } from './demo.ts';
import { docsCommand } from './docs.ts';
import { coded, describeUnforeseen, parseArgsMessage } from './error-lines.ts';
import { ExitCode, exitCodeOf } from './exit-codes.ts';
import { splitCommandLine, takeGlobalOptions } from './global-options.ts';
import { commandToRun, HELP } from './help.ts';
import { logLine } from './log-lines.ts';
import { lsCommand } from './ls.ts';
import { type Output, printableLines, processOutput, withPrintableErrors } from './output.ts';
import { queryCommand } from './query.ts';
import { runCommand } from './run.ts';
import { runsCommand } from './runs.ts';
import { startCommand } from './start.ts';
import { syncCommand } from './sync.ts';
import { testCommand } from './test.ts';

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
  const line = splitCommandLine(argv);
  const command = commandToRun(line, output);
  if (typeof command !== 'string') return command;
  // --config (and --log-format, for a command that logs) may appear anywhere after the command;
  // everything else belongs to the command.
  const options = takeGlobalOptions(command, line.rest, output);
  if (typeof options !== 'object') return options;
  const { args } = options;
  let config: InletConfig;
  try {
    config = loadConfig({
      path: options.config,
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
  const format = options.logFormat ?? (env.INLET_LOG_FORMAT || undefined);
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
