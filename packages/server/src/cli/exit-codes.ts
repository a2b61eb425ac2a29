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
