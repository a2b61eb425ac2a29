/** Named exit codes, documented in README.md. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONFIG: 3,
  QUERY: 4,
  /** An error inlet did not foresee: a bug, or a state of the machine no check knows of. */
  INTERNAL: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
