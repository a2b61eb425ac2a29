/** Named exit codes, documented in README.md. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONFIG: 3,
  QUERY: 4,
  /** An error inlet did not foresee: a bug, or a state of the machine no check knows of. */
  INTERNAL: 5,
  /** 128 + the signal's number, as a shell expects of a command Ctrl-C (SIGINT) stopped. */
  INTERRUPTED: 130,
  /** 128 + SIGTERM's number: stopped by a supervisor, docker stop or timeout(1). */
  TERMINATED: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

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

/** The exit code of a command that an error of inlet's, with this code, ended. */
export function exitCodeOf(code: string, command: string): ExitCode {
  if (code.startsWith('CONFIG_') || CONFIGURATION_CODES.has(code)) return ExitCode.CONFIG;
  // A file where the lake keeps a folder stops inlet start as a data directory problem does.
  if (code === 'LAKE_UNREADABLE' && (command === 'start' || command === 'demo')) return ExitCode.CONFIG;
  if (UNKNOWN_NAME_CODES.has(code)) return ExitCode.USAGE;
  if (command === 'query' && QUERY_FAILURE_CODES.has(code)) return ExitCode.QUERY;
  return code.startsWith('QUERY') ? ExitCode.QUERY : ExitCode.FAILURE;
}
