import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { ExitCode } from './exit-codes.ts';
import type { Format, Output } from './output.ts';

/** A command that runs in this process: its arguments (--config taken off), the config, a logger and where to write. */
export type Command = (
  args: string[],
  config: InletConfig,
  logger: Logger,
  output: Output,
) => Promise<ExitCode>;

/**
 * A command's options and positional arguments, and the tokens that say which option each word
 * follows (dbt's --exclude a b); an unknown option is a usage error.
 */
export const commandArgs = <const T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
) => parseArgs({ args, allowPositionals: true, tokens: true, options });

const FORMATS: readonly string[] = ['table', 'json', 'csv'] satisfies Format[];

/** --format as given, else a table for a terminal and JSON for a pipe; undefined when it names no format. */
export function outputFormat(given: string | undefined, output: Output): Format | undefined {
  const format = given ?? (output.isTty ? 'table' : 'json');
  if (FORMATS.includes(format)) return format as Format;
  // Said before the command's usage, which alone left the mistake to be guessed.
  output.err(`--format must be table, json or csv, not ${JSON.stringify(format)}\n`);
  return undefined;
}

/** Runs work with a signal that Ctrl-C (SIGINT) aborts while it runs; after it, Ctrl-C exits as usual. */
export async function whileInterruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', stop);
  }
}
